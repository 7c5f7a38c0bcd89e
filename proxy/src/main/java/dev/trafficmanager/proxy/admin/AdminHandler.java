package dev.trafficmanager.proxy.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Answers the admin port's requests. Stateless, so one shared instance serves every connection.
 * Requests arrive aggregated, so the request is all there is to answer.
 */
@ChannelHandler.Sharable
public final class AdminHandler extends SimpleChannelInboundHandler<HttpRequest> {

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, HttpRequest request) {
        if (request.decoderResult().isFailure()) {
            write(ctx, HttpResponseStatus.BAD_REQUEST, "{\"error\":\"bad_request\",\"message\":\"malformed request\"}", false);
            return;
        }
        String path = new QueryStringDecoder(request.uri()).path();
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (!path.equals("/healthz")) {
            write(ctx, HttpResponseStatus.NOT_FOUND, "{\"error\":\"not_found\",\"message\":\"no such resource: "
                    + "see the README for the admin endpoints\"}", keepAlive);
        } else if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
            write(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "{\"error\":\"method_not_allowed\",\"message\":\""
                    + request.method() + " " + path + " (expected: GET)\"}", keepAlive);
        } else {
            write(ctx, HttpResponseStatus.OK, "{\"status\":\"ok\"}", keepAlive);
        }
    }

    private static void write(ChannelHandlerContext ctx, HttpResponseStatus status, String json, boolean keepAlive) {
        ByteBuf body = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        HttpUtil.setKeepAlive(response, keepAlive);
        if (keepAlive) {
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
