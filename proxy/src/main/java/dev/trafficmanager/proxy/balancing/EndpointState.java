package dev.trafficmanager.proxy.balancing;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * What the sidecar knows of one endpoint (a scheme, host and port), whichever routes list it:
 * requests in flight (for least-request), consecutive failures, and its ejection. Thread-safe:
 * event loops share it; ejection changes are rare and synchronized.
 */
final class EndpointState {
    final String name;
    final AtomicInteger active = new AtomicInteger();
    final AtomicInteger consecutiveFailures = new AtomicInteger();
    private volatile long ejectedUntilNanos;
    private volatile boolean ejected;
    private int timesEjected;

    EndpointState(String name) {
        this.name = name;
    }

    /** Whether it is out of the balancing at {@code now}. */
    boolean ejected(long now) {
        return ejected && now - ejectedUntilNanos < 0;
    }

    /** Whether an ejection ran out by {@code now}: then it is back, once (true to one caller). */
    synchronized boolean returned(long now) {
        if (ejected && now - ejectedUntilNanos >= 0) {
            ejected = false;
            consecutiveFailures.set(0);
            return true;
        }
        return false;
    }

    /** Ejects it for {@code baseNanos} × the times it has been ejected; returns that duration. */
    synchronized long eject(long now, long baseNanos) {
        timesEjected++;
        long nanos = baseNanos * timesEjected;
        ejectedUntilNanos = now + nanos;
        ejected = true;
        return nanos;
    }

    synchronized int timesEjected() {
        return timesEjected;
    }
}
