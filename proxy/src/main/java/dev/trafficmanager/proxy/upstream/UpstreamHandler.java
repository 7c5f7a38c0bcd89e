package dev.trafficmanager.proxy.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
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

    private final UpstreamPool pool;

    UpstreamHandler(UpstreamPool pool) {
        this.pool = pool;
    }

    static void attach(io.netty.channel.Channel channel, ResponseListener exchange) {
        channel.attr(EXCHANGE).set(exchange);
    }

    static ResponseListener detach(io.netty.channel.Channel channel) {
        return channel.attr(EXCHANGE).getAndSet(null);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ResponseListener listener = ctx.channel().attr(EXCHANGE).get();
        if (listener != null && msg instanceof HttpObject http) {
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
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (!(evt instanceof IdleStateEvent idle)) {
            ctx.fireUserEventTriggered(evt);
            return;
        }
        ResponseListener listener = ctx.channel().attr(EXCHANGE).get();
        if (listener == null && idle.state() == IdleState.ALL_IDLE) {
            ctx.close(); // idle in the pool: close it before the upstream's own keep-alive timeout does
        } else if (listener != null && idle.state() == IdleState.READER_IDLE) {
            listener.upstreamIdle();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        pool.closed(ctx.channel());
        ResponseListener current = detach(ctx.channel());
        if (current != null) {
            current.upstreamClosed(null);
        }
    }

    /** Closes; channelInactive then updates the pool's count and tells the exchange, in that order. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
