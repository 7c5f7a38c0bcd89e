package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.resilience.RetryPolicy;
import dev.trafficmanager.proxy.upstream.UpstreamPool;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One exchange's tries at its upstream, and every decision about another: the circuit breaker's
 * admission and the outcome it is told (once per admission), the retries after a connection that
 * failed (only for an idempotent request that sent no body byte, within the {@link RetryPolicy}'s
 * budget, after a backoff), and the one immediate retry of the keep-alive race (a pooled
 * connection the upstream closed just as it was reused). Confined to the exchange's event loop.
 */
final class UpstreamAttempts {
    private final ProxyServices services;
    private final boolean idempotent;
    private UpstreamPool pool;
    private int retries; // after connections that failed, within the retry policy
    private boolean raceRetried; // the keep-alive race, at most once
    private boolean breakerHeld; // the breaker let this exchange through and awaits its outcome

    UpstreamAttempts(ProxyServices services, HttpMethod method) {
        this.services = services;
        this.idempotent = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)
                || method.equals(HttpMethod.OPTIONS) || method.equals(HttpMethod.PUT) || method.equals(HttpMethod.DELETE);
    }

    void use(UpstreamPool upstreamPool) {
        this.pool = upstreamPool;
    }

    UpstreamPool pool() {
        return pool;
    }

    /** Asks the upstream's breaker for an attempt; false while it is open. */
    boolean admit() {
        if (!pool.admit()) {
            return false;
        }
        breakerHeld = true;
        return true;
    }

    /** Tells the breaker how the upstream did, once per admission. */
    void answered(boolean healthy) {
        if (breakerHeld) {
            breakerHeld = false;
            if (healthy) {
                pool.breaker().onSuccess();
            } else {
                pool.breaker().onFailure();
            }
        }
    }

    /** Gives the admission back untold: the attempt ended for a reason that is not the upstream's. */
    void abandon() {
        if (breakerHeld) {
            breakerHeld = false;
            pool.breaker().onAbandoned();
        }
    }

    /**
     * After a connection that failed: runs {@code attempt} on {@code executor} after a backoff if the
     * request is idempotent, sent no body byte, and the retry policy has a retry left and room in
     * its budget; false (nothing scheduled) otherwise.
     */
    boolean retryLater(boolean bodyBytesSent, EventExecutor executor, Runnable attempt) {
        RetryPolicy policy = services.upstream().retry();
        if (bodyBytesSent || !idempotent || !policy.tryStart(retries + 1, services.drain()::inFlight)) {
            return false;
        }
        retries++;
        services.metrics().upstreamRetries().increment();
        executor.schedule(() -> {
            policy.finished();
            attempt.run();
        }, policy.backoffNanos(retries, ThreadLocalRandom.current()), TimeUnit.NANOSECONDS);
        return true;
    }

    /**
     * The keep-alive race: whether to connect again at once after a reused connection closed
     * before any response, when nothing of the request can have been processed (no body byte sent,
     * and the head's write failed or the request is idempotent). At most once.
     */
    boolean retryRace(boolean reused, boolean bodyBytesSent, boolean headWriteFailed) {
        if (!reused || raceRetried || bodyBytesSent || !(headWriteFailed || idempotent)) {
            return false;
        }
        raceRetried = true;
        services.metrics().upstreamRetries().increment();
        return true;
    }

    boolean raceRetried() {
        return raceRetried;
    }

    /** For an error message: how many times a connection was tried, when more than once. */
    String tries() {
        return retries > 0 ? " (tried " + (retries + 1) + " times)" : "";
    }
}
