package dev.trafficmanager.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * Closing a connection whose client may still be sending a body we will not read (a refused or
 * malformed request): after the last response is written, shut our side down, then read and drop
 * what arrives for {@value #MILLIS} ms or up to {@value #MAX_BYTES} bytes, then close. Closing at
 * once would make the client's kernel answer the unread data with a reset that can destroy the
 * response before the client reads it (Apache's and nginx's lingering close; Tomcat's
 * maxSwallowSize is the byte limit). One per connection, on its event loop.
 */
public final class LingeringClose {
    public static final long MILLIS = 2000;
    public static final long MAX_BYTES = 2 << 20;

    private boolean active;
    private long discarded;

    /** Whether the connection is lingering: whatever it reads goes to {@link #discard}. */
    public boolean active() {
        return active;
    }

    /**
     * Lingers once {@code lastWrite} is done, or closes at once when it failed or the channel
     * cannot half-close. With auto-read off the caller need not read: this asks for each read.
     */
    public void after(ChannelFuture lastWrite, ChannelHandlerContext ctx) {
        lastWrite.addListener(f -> {
            if (f.isSuccess() && ctx.channel() instanceof DuplexChannel duplex && ctx.channel().isActive()) {
                active = true;
                duplex.shutdownOutput();
                ctx.executor().schedule(() -> {
                    ctx.close();
                }, MILLIS, TimeUnit.MILLISECONDS);
                ctx.read();
            } else {
                ctx.close();
            }
        });
    }

    /** Drops (and releases) a message read while lingering; closes once too much has arrived. */
    public void discard(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBufHolder holder) {
            discarded += holder.content().readableBytes();
        } else if (msg instanceof ByteBuf buf) {
            discarded += buf.readableBytes();
        }
        ReferenceCountUtil.release(msg);
        if (discarded > MAX_BYTES) {
            ctx.close();
        } else if (!ctx.channel().config().isAutoRead()) {
            ctx.read();
        }
    }
}
