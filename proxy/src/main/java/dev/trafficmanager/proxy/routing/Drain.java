package dev.trafficmanager.proxy.routing;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * Tracks client connections and requests in flight, for a graceful stop: once draining, responses
 * say {@code Connection: close} and {@code /readyz} answers 503; the server keeps serving until no
 * request has been in flight for a second, up to the drain timeout, then closes what is left.
 * Thread-safe.
 */
public final class Drain {
    private final ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    /** Clients' HTTP/2 connections (their streams are in {@link #clients} too): told GOAWAY when the drain starts. */
    private final ChannelGroup http2 = new DefaultChannelGroup("http2-clients", GlobalEventExecutor.INSTANCE);
    // Touched by every request on every event loop: a LongAdder does not bounce one cache line
    // between cores, and the last activity is only written once it matters (while draining).
    private final LongAdder inFlight = new LongAdder();
    private volatile long lastActivityNanos = System.nanoTime();
    private volatile boolean draining;

    void opened(Channel client) {
        clients.add(client);
    }

    void openedHttp2(Channel connection) {
        clients.add(connection);
        http2.add(connection);
        if (draining) {
            goAway(connection);
        }
    }

    void started() {
        inFlight.increment();
        if (draining) {
            lastActivityNanos = System.nanoTime();
        }
    }

    void ended() {
        inFlight.decrement();
        if (draining) {
            lastActivityNanos = System.nanoTime();
        }
    }

    public boolean draining() {
        return draining;
    }

    public int inFlight() {
        return inFlight.intValue();
    }

    /** Draining from now on; the quiet period counts from here or from the last request after it. */
    public void start() {
        lastActivityNanos = System.nanoTime();
        draining = true;
        for (Channel connection : http2) {
            goAway(connection);
        }
    }

    /** GOAWAY (NO_ERROR): the client opens no new stream here; those in flight finish. */
    private static void goAway(Channel connection) {
        connection.eventLoop().execute(() -> connection.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)));
    }

    /**
     * Waits until no request has been in flight for {@code quiet}, or {@code timeout} passed; returns
     * whether the proxy went quiet. The listener stays open meanwhile: the application next to the
     * sidecar is told to stop at the same moment, and its own shutdown may still call out.
     */
    public boolean awaitQuiet(Duration quiet, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (inFlight.sum() > 0 || System.nanoTime() - lastActivityNanos < quiet.toNanos()) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    public void closeAll() {
        clients.close().awaitUninterruptibly(2000);
    }
}
