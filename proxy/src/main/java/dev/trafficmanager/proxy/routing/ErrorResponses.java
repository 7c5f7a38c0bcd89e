package dev.trafficmanager.proxy.routing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** The JSON responses the sidecar writes itself: {@code {"error": code, "message": ...}} and others. */
public final class ErrorResponses {
    private ErrorResponses() {
    }

    /** An error response; the caller writes it (and so hands over the buffer). */
    public static FullHttpResponse error(ByteBufAllocator alloc, HttpResponseStatus status, String code,
                                         String message, boolean keepAlive) {
        return error(alloc, status, code, message, keepAlive, null);
    }

    /** The same with the request's trace id ({@code traceId}, when it has one) in the body. */
    public static FullHttpResponse error(ByteBufAllocator alloc, HttpResponseStatus status, String code,
                                         String message, boolean keepAlive, String traceId) {
        return json(alloc, status, "{\"error\":" + JsonText.quote(code) + ",\"message\":" + JsonText.quote(message)
                + (traceId == null ? "" : ",\"traceId\":" + JsonText.quote(traceId)) + "}\n", keepAlive);
    }

    public static FullHttpResponse json(ByteBufAllocator alloc, HttpResponseStatus status, String json, boolean keepAlive) {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        ByteBuf body = alloc.buffer(bytes.length).writeBytes(bytes);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length)
                .set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        return response;
    }
}
