package dev.trafficmanager.controlapi.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs each request's endpoint on the worker executor (endpoints block on JDBC) and writes the
 * response back on the channel's event loop. Requests on one connection are answered one at a time
 * and in order, so pipelined requests cannot overtake each other; while one is in flight the
 * channel stops reading. Per-connection state: one instance per channel, touched only on its event
 * loop.
 */
public final class ApiHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
    private static final int MAX_PIPELINED = 16;

    private final Router router;
    private final Executor workers;
    private final Json json;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    private boolean inFlight;

    private record Pending(ApiRequest request, boolean keepAlive) {
    }

    public ApiHandler(Router router, Executor workers, Json json) {
        this.router = router;
        this.workers = workers;
        this.json = json;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (request.decoderResult().isFailure()) {
            writeError(ctx, decoderError(request.decoderResult().cause()), false);
            return;
        }
        if (pending.size() >= MAX_PIPELINED) {
            writeError(ctx, new ApiException(HttpResponseStatus.TOO_MANY_REQUESTS, "too_many_pipelined",
                    "more than " + MAX_PIPELINED + " pipelined requests on one connection"), false);
            return;
        }
        pending.add(new Pending(ApiRequest.from(request), HttpUtil.isKeepAlive(request)));
        ctx.channel().config().setAutoRead(false);
        if (!inFlight) {
            dispatchNext(ctx);
        }
    }

    private void dispatchNext(ChannelHandlerContext ctx) {
        Pending next = pending.poll();
        if (next == null) {
            inFlight = false;
            ctx.channel().config().setAutoRead(true);
            return;
        }
        inFlight = true;
        Router.Match match;
        try {
            match = router.match(next.request());
        } catch (ApiException e) {
            respond(ctx, errorResponse(e), next.keepAlive());
            return;
        }
        try {
            workers.execute(() -> {
                ApiResponse response = run(match);
                ctx.executor().execute(() -> respond(ctx, response, next.keepAlive()));
            });
        } catch (RejectedExecutionException e) {
            respond(ctx, errorResponse(new ApiException(HttpResponseStatus.SERVICE_UNAVAILABLE, "overloaded",
                    "too many requests are waiting for the database; retry later")), next.keepAlive());
        }
    }

    private ApiResponse run(Router.Match match) {
        try {
            return match.endpoint().handle(match.request());
        } catch (ApiException e) {
            if (e.status().code() == 500) {
                log.error("{} {} failed", match.request().method(), match.request().path(), e);
            } else if (e.status().code() > 500) {
                log.warn("{} {}: {} ({})", match.request().method(), match.request().path(), e.code(),
                        e.getCause() == null ? e.getMessage() : e.getCause().toString());
            }
            return errorResponse(e);
        } catch (RuntimeException e) {
            log.error("{} {} failed", match.request().method(), match.request().path(), e);
            return errorResponse(new ApiException(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal_error",
                    "the request failed and nothing was written; see the server log"));
        }
    }

    /** Runs on the event loop. */
    private void respond(ChannelHandlerContext ctx, ApiResponse response, boolean keepAlive) {
        FullHttpResponse http = toHttp(ctx, response, keepAlive);
        ctx.writeAndFlush(http).addListener((ChannelFutureListener) future -> {
            if (!future.isSuccess() || !keepAlive) {
                pending.clear();
                future.channel().close();
                return;
            }
            dispatchNext(ctx);
        });
    }

    private void writeError(ChannelHandlerContext ctx, ApiException error, boolean keepAlive) {
        pending.clear();
        inFlight = true; // nothing more is read from this connection
        ctx.writeAndFlush(toHttp(ctx, errorResponse(error), keepAlive)).addListener(ChannelFutureListener.CLOSE);
    }

    private FullHttpResponse toHttp(ChannelHandlerContext ctx, ApiResponse response, boolean keepAlive) {
        byte[] bytes;
        String contentType;
        if (response.body() instanceof ApiResponse.Raw raw) {
            bytes = raw.bytes();
            contentType = raw.contentType();
        } else {
            bytes = json.write(response.body());
            contentType = "application/json";
        }
        ByteBuf content = ctx.alloc().buffer(bytes.length).writeBytes(bytes);
        FullHttpResponse http = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, response.status(), content);
        http.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        for (Map.Entry<String, String> header : response.headers().entrySet()) {
            http.headers().set(header.getKey(), header.getValue());
        }
        if (!keepAlive) {
            http.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        return http;
    }

    static ApiResponse errorResponse(ApiException e) {
        Map<String, String> body = new java.util.LinkedHashMap<>();
        body.put("error", e.code());
        body.put("message", e.getMessage());
        return new ApiResponse(e.status(), body, e.headers());
    }

    private static ApiException decoderError(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return new ApiException(HttpResponseStatus.REQUEST_URI_TOO_LONG, "uri_too_long", "request line too long");
        }
        if (cause instanceof TooLongHttpHeaderException) {
            return new ApiException(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large",
                    "request headers too large");
        }
        if (cause instanceof TooLongFrameException) {
            return new ApiException(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large", cause.getMessage());
        }
        return ApiException.badRequest("bad_request", "malformed HTTP request: " + cause.getMessage());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("connection {} failed: {}", ctx.channel(), cause.toString());
        } else {
            log.error("unexpected error on {}", ctx.channel(), cause);
        }
        ctx.close();
    }
}
