package dev.trafficmanager.proxy.routing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The first handler of a client connection: HTTP/2 with prior knowledge when the first bytes are
 * the connection preface ({@code PRI * HTTP/2.0...}, RFC 9113 section 3.4), HTTP/1.1 otherwise,
 * decided as soon as the bytes differ from the preface. It installs that protocol's handlers, starts
 * them (they see the connection become active only now), hands them what it read and leaves. A
 * connection that sends no decisive byte within the client idle timeout is closed.
 */
final class ProtocolDetector extends ByteToMessageDecoder {
    private static final ByteBuf PREFACE = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII))).asReadOnly();

    private final ProxyInitializer protocols;
    private final long timeoutNanos;
    private ScheduledFuture<?> timeout;

    ProtocolDetector(ProxyInitializer protocols, long timeoutNanos) {
        this.protocols = protocols;
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        // Not passed on: the protocol's handlers are not there yet.
        timeout = ctx.executor().schedule(() -> {
            ctx.close();
        }, timeoutNanos, TimeUnit.NANOSECONDS);
        ctx.read();
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int length = Math.min(in.readableBytes(), PREFACE.readableBytes());
        boolean preface = ByteBufUtil.equals(in, in.readerIndex(), PREFACE, 0, length);
        if (preface && length < PREFACE.readableBytes()) {
            return; // so far a prefix of the preface: channelReadComplete asks for more
        }
        timeout.cancel(false);
        if (preface) {
            protocols.http2(ctx.pipeline());
        } else {
            protocols.http1(ctx.pipeline());
        }
        ctx.fireChannelActive();
        ctx.pipeline().remove(this); // what was read goes on to the new handlers
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (timeout != null) {
            timeout.cancel(false);
        }
        super.channelInactive(ctx);
    }
}
