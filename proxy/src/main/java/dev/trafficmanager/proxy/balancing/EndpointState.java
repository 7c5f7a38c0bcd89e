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
    private volatile int timesEjected;
    private long lastDecayNanos;

    EndpointState(String name) {
        this.name = name;
    }

    /** Whether it is out of the balancing at {@code now}. */
    boolean ejected(long now) {
        return ejected && now - ejectedUntilNanos < 0;
    }

    /** Whether an ejection ran out by {@code now}: then it is back, once (true to one caller). */
    boolean returned(long now) {
        if (!ejected) {
            return false; // every pick asks, for every endpoint: one volatile read, no lock
        }
        synchronized (this) {
            if (ejected && now - ejectedUntilNanos >= 0) {
                ejected = false;
                consecutiveFailures.set(0);
                return true;
            }
            return false;
        }
    }

    /**
     * Ejects it for {@code baseNanos} × the times it has been ejected, at most {@code maxNanos} (or
     * the base, if that is more); returns that duration.
     */
    synchronized long eject(long now, long baseNanos, long maxNanos) {
        timesEjected++;
        long nanos = Math.min(baseNanos * timesEjected, Math.max(baseNanos, maxNanos));
        ejectedUntilNanos = now + nanos;
        lastDecayNanos = now + nanos;
        ejected = true;
        return nanos;
    }

    /**
     * A success at {@code now}: an endpoint in the balancing forgets one of its ejections per
     * {@code baseNanos} it has been back (Envoy's multiplier decays the same way), so an endpoint
     * ejected now and then does not carry ever longer ejections.
     */
    void healthy(long now, long baseNanos) {
        if (timesEjected == 0 || ejected) {
            return; // the common case: one volatile read
        }
        synchronized (this) {
            if (timesEjected > 0 && !ejected && now - lastDecayNanos >= baseNanos) {
                timesEjected--;
                lastDecayNanos = now;
            }
        }
    }

    int timesEjected() {
        return timesEjected;
    }
}
