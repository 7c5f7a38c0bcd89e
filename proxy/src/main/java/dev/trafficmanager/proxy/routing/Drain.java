package dev.trafficmanager.proxy.routing;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Tracks client connections and requests in flight, for a graceful stop: once draining, responses
 * say {@code Connection: close} and {@code /readyz} answers 503; the server then waits for the
 * requests in flight, up to the drain timeout, before closing what is left. Thread-safe.
 */
public final class Drain {
    private final ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean draining;

    void opened(Channel client) {
        clients.add(client);
    }

    void started() {
        inFlight.incrementAndGet();
    }

    void ended() {
        inFlight.decrementAndGet();
    }

    public boolean draining() {
        return draining;
    }

    public int inFlight() {
        return inFlight.get();
    }

    public void start() {
        draining = true;
    }

    /** Waits until no request is in flight or {@code timeout} passed; returns whether all finished. */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (inFlight.get() > 0) {
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
