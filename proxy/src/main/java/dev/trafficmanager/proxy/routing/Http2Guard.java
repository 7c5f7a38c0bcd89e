package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.upstream.UpstreamProtocol;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a client's HTTP/2 connection; it sees the frames that belong to no stream.
 * It ends a SETTINGS or PING flood (more than {@value #MAX_CONTROL_FRAMES} in
 * {@value #WINDOW_SECONDS} s: each costs us an acknowledgement) with GOAWAY ENHANCE_YOUR_CALM,
 * closes the connection once idle with no stream open, and widens the connection's flow-control
 * window to every stream's worth so one slow stream cannot stall the others. Rapid resets and
 * CONTINUATION floods are refused by the codec itself (its RST_STREAM and header-list limits).
 * Per connection, on its event loop.
 */
final class Http2Guard extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(Http2Guard.class);
    static final int MAX_CONTROL_FRAMES = 1000;
    static final int WINDOW_SECONDS = 10;

    private final Drain drain;
    private long windowStartNanos = System.nanoTime();
    private int controlFrames;

    Http2Guard(Drain drain) {
        this.drain = drain;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        drain.openedHttp2(ctx.channel());
        ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(UpstreamProtocol.CONNECTION_WINDOW - UpstreamProtocol.STREAM_WINDOW));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        boolean control = msg instanceof Http2SettingsFrame || msg instanceof Http2PingFrame ping && !ping.ack();
        ReferenceCountUtil.release(msg);
        if (!control) {
            return;
        }
        long now = System.nanoTime();
        if (now - windowStartNanos > WINDOW_SECONDS * 1_000_000_000L) {
            windowStartNanos = now;
            controlFrames = 0;
        }
        if (++controlFrames > MAX_CONTROL_FRAMES) {
            log.warn("client {}: more than {} SETTINGS and PING frames in {} s: GOAWAY", ctx.channel().remoteAddress(),
                    MAX_CONTROL_FRAMES, WINDOW_SECONDS);
            controlFrames = Integer.MIN_VALUE; // once
            ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.ENHANCE_YOUR_CALM)).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent) {
            Http2FrameCodec codec = ctx.pipeline().get(Http2FrameCodec.class);
            if (codec == null || codec.connection().numActiveStreams() == 0) {
                ctx.close(); // the codec says GOAWAY first
            }
        } else {
            ctx.fireUserEventTriggered(event);
        }
    }

    /** A protocol error is the codec's to answer (GOAWAY, then it closes); anything else closes at once. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("client {}: HTTP/2 connection failed: {}", ctx.channel().remoteAddress(), cause.toString());
        if (!(cause instanceof Http2Exception)) {
            ctx.close();
        }
    }
}
