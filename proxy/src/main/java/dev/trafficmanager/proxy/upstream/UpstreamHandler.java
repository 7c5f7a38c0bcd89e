package dev.trafficmanager.proxy.upstream;

import dev.trafficmanager.proxy.Deadline;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

/**
 * The last handler of an upstream connection: hands response parts to the exchange the connection
 * serves, and closes the connection when it idles in the pool. One per connection; runs on its
 * event loop.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
    /** The exchange served, kept on the channel so it can be set before the pipeline exists. */
    static final AttributeKey<ResponseListener> EXCHANGE = AttributeKey.valueOf("tm.exchange");

    private final ConnectionPool pool;
    private final long streamIdleNanos;
    private final long poolIdleNanos;
    private final Runnable streamIdleExpired = this::streamIdleExpired;
    private final Runnable poolIdleExpired = this::poolIdleExpired;
    private ChannelHandlerContext ctx;
    /** An HTTP/2 stream the upstream refused: a GOAWAY past it, or RST_STREAM REFUSED_STREAM. */
    private boolean refused;
    /** No response byte for TM_UPSTREAM_IDLE_TIMEOUT_MS while serving an exchange: a stalled response. */
    private Deadline streamIdle;
    /** Unused in the pool for TM_UPSTREAM_POOL_IDLE_MS: closed before the upstream's own keep-alive timeout. */
    private Deadline poolIdle;

    UpstreamHandler(ConnectionPool pool, long streamIdleNanos, long poolIdleNanos) {
        this.pool = pool;
        this.streamIdleNanos = streamIdleNanos;
        this.poolIdleNanos = poolIdleNanos;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        streamIdle = new Deadline(ctx.executor());
        poolIdle = new Deadline(ctx.executor());
    }

    /** The connection went back to its pool. */
    static void pooled(Channel channel) {
        UpstreamHandler handler = channel.pipeline().get(UpstreamHandler.class);
        if (handler != null) {
            handler.poolIdle.arm(handler.poolIdleNanos, handler.poolIdleExpired);
        }
    }

    private void poolIdleExpired() {
        if (ctx.channel().attr(EXCHANGE).get() == null) {
            ctx.close();
        }
    }

    private void streamIdleExpired() {
        ResponseListener listener = ctx.channel().attr(EXCHANGE).get();
        if (listener != null) {
            listener.upstreamIdle();
        }
    }

    static void attach(Channel channel, ResponseListener exchange) {
        channel.attr(EXCHANGE).set(exchange);
    }

    static ResponseListener detach(Channel channel) {
        return channel.attr(EXCHANGE).getAndSet(null);
    }

    /**
     * Netty tells a stream of its reset and of a GOAWAY past its id as events (not reads: they are
     * not flow-controlled). Either may say the upstream never processed the request.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof Http2GoAwayFrame) {
            refused = true;
            ReferenceCountUtil.release(event);
        } else if (event instanceof Http2ResetFrame reset) {
            refused |= reset.errorCode() == Http2Error.REFUSED_STREAM.code();
            ctx.fireUserEventTriggered(event);
        } else {
            ctx.fireUserEventTriggered(event);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ResponseListener listener = ctx.channel().attr(EXCHANGE).get();
        if (listener != null && msg instanceof HttpObject http) {
            streamIdle.arm(streamIdleNanos, streamIdleExpired);
            listener.upstreamResponse(http);
        } else {
            // Bytes from an upstream with no request outstanding: it broke the protocol.
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ResponseListener listener = ctx.channel().attr(EXCHANGE).get();
        if (listener != null) {
            listener.upstreamReadComplete();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        streamIdle.close();
        poolIdle.close();
        pool.closed(ctx.channel());
        ResponseListener current = detach(ctx.channel());
        if (current != null) {
            current.upstreamClosed(refused ? new UpstreamPool.Refused("the upstream refused the stream: nothing was processed")
                    : pool.closeCause(ctx.channel()));
        }
    }

    /** Closes; channelInactive then updates the pool's count and tells the exchange, in that order. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
