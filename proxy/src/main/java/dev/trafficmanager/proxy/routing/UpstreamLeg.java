package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.upstream.ConnectionPool;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * The upstream channel of an exchange's current attempt (an HTTP/1.1 connection or an HTTP/2
 * stream) and what went onto it: whether it came from a pool, whether the request head's write
 * failed (then nothing of the request can have been processed), and when it was sent. A failed
 * write closes the channel, so the exchange hears of it once, by {@code upstreamClosed}. Confined
 * to the exchange's event loop.
 */
final class UpstreamLeg {
    private Channel channel;
    private boolean reused;
    private boolean headWriteFailed;
    private long sentAtNanos;

    /**
     * The attempt's channel is there: sends the request head; {@code endAgain} sends an empty end
     * of body after it (a retry of a request whose only body parts, all empty, went on the failed one).
     */
    void start(Channel connected, boolean fromPool, HttpRequest request, boolean endAgain) {
        channel = connected;
        reused = fromPool;
        headWriteFailed = false;
        sentAtNanos = System.nanoTime();
        connected.write(request).addListener(f -> {
            if (!f.isSuccess()) {
                headWriteFailed = true;
                connected.close();
            }
        });
        if (endAgain) {
            connected.write(LastHttpContent.EMPTY_LAST_CONTENT);
        }
    }

    /** Writes a body part; the caller hands it over and hears of the write by the future. */
    ChannelFuture write(HttpContent part, boolean flush) {
        Channel target = channel;
        ChannelFuture write = flush ? target.writeAndFlush(part) : target.write(part);
        write.addListener(f -> {
            if (!f.isSuccess()) {
                target.close();
            }
        });
        return write;
    }

    boolean connected() {
        return channel != null;
    }

    void flush() {
        channel.flush();
    }

    /** Asks for the next part of the response (the channel reads only when asked). */
    void read() {
        channel.read();
    }

    /** The channel closed by itself: nothing to give back. */
    void lost() {
        channel = null;
    }

    /** Closes the channel (a stalled response); {@code upstreamClosed} follows. */
    void close() {
        if (channel != null) {
            channel.close();
        }
    }

    /** The channel leaves the exchange and its pool without closing: an upgrade takes it over. */
    Channel detach(ConnectionPool pool) {
        Channel taken = channel;
        channel = null;
        pool.detach(taken);
        return taken;
    }

    /** Gives the channel back to {@code pool}: kept for the next request if {@code reusable}, else closed. */
    void release(ConnectionPool pool, boolean reusable) {
        if (channel != null) {
            pool.release(channel, reusable);
            channel = null;
        }
    }

    /** A gateway error that is retried: its answer dropped, its connection closed (the rest of it is never read). */
    void discard(HttpResponse answer, ConnectionPool pool) {
        ReferenceCountUtil.release(answer);
        release(pool, false);
    }

    boolean reused() {
        return reused;
    }

    boolean headWriteFailed() {
        return headWriteFailed;
    }

    long sentAtNanos() {
        return sentAtNanos;
    }
}
