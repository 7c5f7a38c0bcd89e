package dev.trafficmanager.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import org.junit.jupiter.api.Test;

/** The hardening the proxy port and the control API share: refusals, lingering close, pipeline layouts. */
class HttpEdgeTest {
    @Test
    void malformedRequestsMapToOneSetOfCodes() {
        assertThat(HttpRefusal.malformed(new TooLongHttpLineException("line")))
                .extracting(r -> r.status().code(), HttpRefusal::code).containsExactly(414, "uri_too_long");
        assertThat(HttpRefusal.malformed(new TooLongHttpHeaderException("head")))
                .extracting(r -> r.status().code(), HttpRefusal::code).containsExactly(431, "headers_too_large");
        assertThat(HttpRefusal.malformed(new TooLongFrameException("body")))
                .extracting(r -> r.status().code(), HttpRefusal::code).containsExactly(413, "body_too_large");
        HttpRefusal smuggled = HttpRefusal.malformed(new CorruptedFrameException("Content-Length and Transfer-Encoding"));
        assertThat(smuggled.status().code()).isEqualTo(400);
        assertThat(smuggled.code()).isEqualTo("bad_request");
        assertThat(smuggled.message()).isEqualTo("malformed request: Content-Length and Transfer-Encoding");
        assertThat(HttpRefusal.bodyTooLarge("x").code()).isEqualTo(HttpRefusal.malformed(new TooLongFrameException()).code());
    }

    @Test
    void lingeringDropsWhatArrivesAndClosesPastTheByteLimit() {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        LingeringClose linger = new LingeringClose();
        var ctx = channel.pipeline().firstContext();
        var part = new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[1024]));
        linger.discard(ctx, part);
        assertThat(part.refCnt()).isZero();
        assertThat(channel.isOpen()).isTrue();
        var big = Unpooled.wrappedBuffer(new byte[(int) LingeringClose.MAX_BYTES]);
        linger.discard(ctx, big);
        assertThat(big.refCnt()).isZero();
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void aLayoutAssemblesItsHandlersUnderItsNamesInOrder() {
        EmbeddedChannel channel = new EmbeddedChannel();
        PipelineLayout.UPSTREAM.assemble(channel.pipeline(), null, new ChannelInboundHandlerAdapter(),
                new ChannelInboundHandlerAdapter());
        assertThat(channel.pipeline().names()).startsWith("http", "upstream");
        assertThat(PipelineLayout.UPSTREAM.names(false)).containsExactly("http", "upstream");
        assertThat(PipelineLayout.UPSTREAM.names(true)).containsExactly("tls", "http", "upstream");
        assertThatThrownBy(() -> PipelineLayout.PROXY_HTTP1.assemble(new EmbeddedChannel().pipeline(), null,
                new ChannelInboundHandlerAdapter())).hasMessageContaining("handler http is required");
        assertThatThrownBy(() -> PipelineLayout.ADMIN.assemble(new EmbeddedChannel().pipeline()))
                .hasMessageContaining("has 3 handlers, not 0");
    }
}
