package dev.trafficmanager.proxy.routing;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Tracks client connections and requests in flight, for a graceful stop: once draining, responses
 * say {@code Connection: close} and {@code /readyz} answers 503; the server keeps serving until no
 * request has been in flight for a second, up to the drain timeout, then closes what is left.
 * Thread-safe.
 */
public final class Drain {
    private final ChannelGroup clients = new DefaultChannelGroup("clients", GlobalEventExecutor.INSTANCE);
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile long lastActivityNanos = System.nanoTime();
    private volatile boolean draining;

    void opened(Channel client) {
        clients.add(client);
    }

    void started() {
        inFlight.incrementAndGet();
        lastActivityNanos = System.nanoTime();
    }

    void ended() {
        inFlight.decrementAndGet();
        lastActivityNanos = System.nanoTime();
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

    /**
     * Waits until no request has been in flight for {@code quiet}, or {@code timeout} passed; returns
     * whether the proxy went quiet. The listener stays open meanwhile: the application next to the
     * sidecar is told to stop at the same moment, and its own shutdown may still call out.
     */
    public boolean awaitQuiet(Duration quiet, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (inFlight.get() > 0 || System.nanoTime() - lastActivityNanos < quiet.toNanos()) {
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
