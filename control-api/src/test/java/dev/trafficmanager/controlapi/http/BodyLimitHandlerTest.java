package dev.trafficmanager.controlapi.http;

import dev.trafficmanager.controlapi.metrics.ApiMetrics;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The body limit through the real codec: bytes in, bytes out. */
class BodyLimitHandlerTest {
    private final Router router = new Router().add(HttpMethod.PUT, "/thing",
            request -> ApiResponse.json(HttpResponseStatus.OK, Map.of("length", request.body().length())));

    private EmbeddedChannel channel() {
        Json json = new Json();
        return new EmbeddedChannel(new HttpServerCodec(), new BodyLimitHandler(16, json),
                new ApiHandler(router, Runnable::run, json, new ApiMetrics(), Duration.ofMinutes(1)));
    }

    private static String exchange(EmbeddedChannel channel, String request) {
        channel.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII));
        channel.runPendingTasks();
        StringBuilder out = new StringBuilder();
        for (ByteBuf buf; (buf = channel.readOutbound()) != null; ) {
            out.append(buf.toString(StandardCharsets.US_ASCII));
            buf.release();
        }
        return out.toString();
    }

    @Test
    void acceptsABodyUpToTheLimit() {
        EmbeddedChannel channel = channel();
        String response = exchange(channel, "PUT /thing HTTP/1.1\r\nContent-Length: 16\r\n\r\n0123456789abcdef");
        assertThat(response).startsWith("HTTP/1.1 200 OK").endsWith("{\"length\":16}");
        assertThat(channel.isOpen()).isTrue();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void refusesALargerContentLengthWithJson413AndCloses() {
        EmbeddedChannel channel = channel();
        String response = exchange(channel, "PUT /thing HTTP/1.1\r\nContent-Length: 17\r\n\r\n0123456789abcdefg");
        assertThat(response).startsWith("HTTP/1.1 413 Request Entity Too Large")
                .contains("connection: close")
                .endsWith("{\"error\":\"body_too_large\",\"message\":\"request body over 16 bytes\"}");
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void refusesChunksThatGrowPastTheLimit() {
        EmbeddedChannel channel = channel();
        String response = exchange(channel, "PUT /thing HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 413").contains("body_too_large");
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void answersAnExpectContinueThatIsTooLargeWithJson413InsteadOf100() {
        EmbeddedChannel channel = channel();
        String response = exchange(channel, "PUT /thing HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1000\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 413").doesNotContain("100 Continue")
                .endsWith("{\"error\":\"body_too_large\",\"message\":\"request body over 16 bytes\"}");
        // the client sent no body, so the connection is still good for the next request
        assertThat(exchange(channel, "PUT /thing HTTP/1.1\r\nContent-Length: 2\r\n\r\nok")).startsWith("HTTP/1.1 200");
        assertFalse(channel.finishAndReleaseAll());
    }
}
