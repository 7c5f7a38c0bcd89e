package dev.trafficmanager.controlapi.http;

import dev.trafficmanager.controlapi.metrics.ApiMetrics;
import dev.trafficmanager.http.HttpRefusal;
import dev.trafficmanager.http.LingeringClose;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The terminal handler: runs each request's endpoint on the worker executor (endpoints block on
 * JDBC) and writes every response, errors included, back on the channel's event loop.
 *
 * <p>Requests on one connection are answered one at a time and in order, so pipelined requests
 * cannot overtake each other, and neither can an error found before a request was complete (a
 * {@link Rejection} from an earlier handler, a malformed request): those queue like requests. While
 * a request is in flight the channel stops reading. After an error that leaves the connection's
 * framing in doubt the connection closes, lingering: output is shut first and input is read and
 * dropped for a while ({@link LingeringClose}), so a client still sending a body gets to read the
 * error rather than a reset.
 *
 * <p>Per-connection state: one instance per channel, touched only on its event loop.
 */
public final class ApiHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ApiHandler.class);
    private static final int MAX_PIPELINED = 16;

    /** A request refused before it reached this handler; answered in turn, then the connection closes. */
    public record Rejection(ApiException error) {
    }

    /**
     * A request to answer: an endpoint call, or a refusal when {@code refusal} is set; {@code takenNanos}
     * is when it came off the connection.
     */
    private record Pending(ApiRequest request, HttpVersion version, boolean keepAlive, ApiException refusal,
                           long takenNanos) {
        Pending(ApiRequest request, HttpVersion version, boolean keepAlive, ApiException refusal) {
            this(request, version, keepAlive, refusal, System.nanoTime());
        }

        static Pending refused(ApiException refusal, HttpVersion version) {
            return new Pending(null, version, false, refusal);
        }
    }

    private final Router router;
    private final Executor workers;
    private final Json json;
    private final ApiMetrics metrics;
    private final long maxQueueWaitNanos;
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();
    /** The peer's address, for the failed-authentication limit; "unknown" when it has none. */
    private String client = "unknown";
    private boolean inFlight;
    /** Set once the connection is to close: later input is dropped. */
    private boolean closing;
    private final LingeringClose linger = new LingeringClose();

    /** @param maxQueueWait a request that waited longer for a worker is answered 503 instead of run */
    public ApiHandler(Router router, Executor workers, Json json, ApiMetrics metrics, Duration maxQueueWait) {
        this.router = router;
        this.workers = workers;
        this.json = json;
        this.metrics = metrics;
        this.maxQueueWaitNanos = maxQueueWait.toNanos();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (ctx.channel().remoteAddress() instanceof InetSocketAddress remote && remote.getAddress() != null) {
            client = remote.getAddress().getHostAddress();
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (linger.active()) {
            linger.discard(ctx, msg);
            return;
        }
        if (closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof Rejection rejection) {
            enqueue(ctx, Pending.refused(rejection.error(), HttpVersion.HTTP_1_1));
        } else if (msg instanceof FullHttpRequest request) {
            try {
                enqueue(ctx, toPending(request, client));
            } finally {
                request.release(); // everything needed was copied into the Pending
            }
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    private Pending toPending(FullHttpRequest request, String client) {
        if (request.decoderResult().isFailure()) {
            return Pending.refused(decoderError(request.decoderResult().cause()), HttpVersion.HTTP_1_1);
        }
        if (pending.size() >= MAX_PIPELINED) {
            return Pending.refused(new ApiException(HttpResponseStatus.TOO_MANY_REQUESTS, "too_many_pipelined",
                    "more than " + MAX_PIPELINED + " pipelined requests on one connection"), request.protocolVersion());
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        try {
            return new Pending(ApiRequest.from(request, client), request.protocolVersion(), keepAlive, null);
        } catch (IllegalArgumentException e) { // QueryStringDecoder on a broken percent-escape
            return new Pending(null, request.protocolVersion(), keepAlive,
                    ApiException.badRequest("invalid_query", "malformed query string: " + e.getMessage()));
        }
    }

    private void enqueue(ChannelHandlerContext ctx, Pending next) {
        pending.add(next);
        if (!next.keepAlive()) {
            closing = true; // nothing after this one will be answered
        }
        ctx.channel().config().setAutoRead(closing);
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
        if (next.refusal() != null) {
            respond(ctx, next, errorResponse(next.refusal()));
            return;
        }
        Router.Match match;
        try {
            match = router.match(next.request());
        } catch (ApiException e) {
            respond(ctx, next, errorResponse(e));
            return;
        }
        long queuedAt = System.nanoTime();
        try {
            workers.execute(() -> {
                ApiResponse response = System.nanoTime() - queuedAt > maxQueueWaitNanos
                        ? errorResponse(overloaded("waited too long for a worker"))
                        : run(match);
                try {
                    ctx.executor().execute(() -> respond(ctx, next, response));
                } catch (RejectedExecutionException e) {
                    log.debug("server stopping: dropped the response to {} {}", match.request().method(),
                            match.request().path());
                }
            });
        } catch (RejectedExecutionException e) {
            respond(ctx, next, errorResponse(overloaded("too many requests are waiting for the database")));
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
    private void respond(ChannelHandlerContext ctx, Pending request, ApiResponse response) {
        boolean keepAlive = request.keepAlive();
        metrics.responded(response.status(), request.takenNanos(), request.request() == null ? null : request.request().path());
        ChannelFuture write = ctx.writeAndFlush(toHttp(ctx.alloc(), json, response, request.version(), keepAlive));
        if (!keepAlive && request.refusal() != null) {
            closeLingering(ctx, write); // the client may still be sending what we refused
            return;
        }
        write.addListener((ChannelFutureListener) written -> {
            if (written.isSuccess() && keepAlive) {
                dispatchNext(ctx);
            } else {
                closeNow(ctx);
            }
        });
    }

    private void closeNow(ChannelHandlerContext ctx) {
        closing = true;
        pending.clear();
        ctx.close();
    }

    private void closeLingering(ChannelHandlerContext ctx, ChannelFuture lastWrite) {
        closing = true;
        pending.clear();
        linger.after(lastWrite, ctx); // reads and drops what the client still sends
    }

    /** The HTTP form of a response; the caller owns the returned message (and its buffer). */
    static FullHttpResponse toHttp(ByteBufAllocator alloc, Json json, ApiResponse response, HttpVersion version,
                                   boolean keepAlive) {
        byte[] bytes;
        String contentType;
        if (response.body() instanceof ApiResponse.Raw raw) {
            bytes = raw.bytes();
            contentType = raw.contentType();
        } else {
            bytes = json.write(response.body());
            contentType = "application/json";
        }
        ByteBuf content = alloc.buffer(bytes.length).writeBytes(bytes);
        FullHttpResponse http = new DefaultFullHttpResponse(version, response.status(), content);
        http.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        for (Map.Entry<String, String> header : response.headers().entrySet()) {
            http.headers().set(header.getKey(), header.getValue());
        }
        HttpUtil.setKeepAlive(http, keepAlive);
        return http;
    }

    static ApiResponse errorResponse(ApiException e) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("error", e.code());
        body.put("message", e.getMessage());
        return new ApiResponse(e.status(), body, e.headers());
    }

    private static ApiException overloaded(String why) {
        return new ApiException(HttpResponseStatus.SERVICE_UNAVAILABLE, "overloaded", why + "; retry later");
    }

    private static ApiException decoderError(Throwable cause) {
        HttpRefusal refusal = HttpRefusal.malformed(cause);
        return new ApiException(refusal.status(), refusal.code(), refusal.message());
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
