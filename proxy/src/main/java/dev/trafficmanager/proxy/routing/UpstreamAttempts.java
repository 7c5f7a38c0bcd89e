package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.resilience.RetryPolicy;
import dev.trafficmanager.proxy.upstream.ConnectionPool;
import dev.trafficmanager.proxy.upstream.UpstreamProtocol;
import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One exchange's tries at its upstream, and every decision about another: the circuit breaker's
 * admission and the outcome it is told (once per admission), and one {@link RetryDecision} after a
 * failed attempt, for both kinds of retry (after a connection that failed, and the keep-alive race),
 * each within the {@link RetryPolicy}'s budget. Confined to the exchange's event loop.
 */
final class UpstreamAttempts {
    private final ProxyServices services;
    private final boolean idempotent;
    private ConnectionPool pool;
    private int retries; // after connections that failed, within the retry policy
    private boolean raceRetried; // the keep-alive race, at most once
    private boolean breakerHeld; // the breaker let this exchange through and awaits its outcome

    UpstreamAttempts(ProxyServices services, HttpMethod method) {
        this.services = services;
        this.idempotent = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)
                || method.equals(HttpMethod.OPTIONS) || method.equals(HttpMethod.PUT) || method.equals(HttpMethod.DELETE);
    }

    void use(ConnectionPool upstreamPool) {
        this.pool = upstreamPool;
    }

    /** The upstream does not speak h2c: the request goes over HTTP/1.1 instead. */
    void useHttp1(HttpRequest request, EventLoop loop, UpstreamTarget target) {
        request.headers().remove(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text()); // the HTTP/2 codec's
        use(services.pools().pool(loop, target, UpstreamProtocol.HTTP1));
    }

    ConnectionPool pool() {
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
     * Whether, and how, to try again after {@code failure}. Never once a body byte was sent. A
     * connection that could not be made is retried after a backoff, for an idempotent request, up to
     * the policy's retries; a reused connection closed before any response is reconnected at once,
     * once, when nothing of the request can have been processed (the head's write failed, or the
     * request is idempotent). Either way only while the retry budget has room: a retry decided here
     * holds its place until {@link #perform} starts it.
     */
    RetryDecision decide(AttemptFailure failure, boolean bodyBytesSent, boolean headWriteFailed, boolean reused) {
        if (bodyBytesSent) {
            return RetryDecision.GIVE_UP;
        }
        if (failure == AttemptFailure.NOT_HTTP2) {
            abandon(); // the protocol's mismatch, not the upstream's failure
            return new RetryDecision(RetryDecision.Kind.FALL_BACK_TO_HTTP1, 0);
        }
        RetryPolicy policy = services.upstream().retry();
        RetryDecision decision;
        if (failure == AttemptFailure.CONNECT_FAILED) {
            if (!idempotent || !policy.tryStart(retries + 1, services.drain()::inFlight)) {
                return RetryDecision.GIVE_UP;
            }
            retries++;
            decision = new RetryDecision(RetryDecision.Kind.RETRY_AFTER_BACKOFF,
                    policy.backoffNanos(retries, ThreadLocalRandom.current()));
        } else {
            boolean refused = failure == AttemptFailure.REFUSED; // the upstream says it processed nothing
            if (!(reused || refused) || raceRetried || !(headWriteFailed || refused || idempotent)
                    || !policy.tryReserve(services.drain()::inFlight)) {
                return RetryDecision.GIVE_UP;
            }
            raceRetried = true;
            decision = new RetryDecision(RetryDecision.Kind.RECONNECT_NOW, 0);
        }
        services.metrics().upstreamRetries().increment();
        return decision;
    }

    /** Starts a retry {@link #decide} allowed: at once or after its backoff, on {@code executor}. */
    void perform(RetryDecision decision, EventExecutor executor, Runnable attempt) {
        RetryPolicy policy = services.upstream().retry();
        if (decision.kind() == RetryDecision.Kind.FALL_BACK_TO_HTTP1) {
            attempt.run(); // held no place in the budget
            return;
        }
        if (decision.kind() == RetryDecision.Kind.RECONNECT_NOW) {
            policy.finished();
            attempt.run();
            return;
        }
        executor.schedule(() -> {
            policy.finished();
            attempt.run();
        }, decision.delayNanos(), TimeUnit.NANOSECONDS);
    }

    /** Whether this exchange reconnected after the keep-alive race. */
    boolean raceRetried() {
        return raceRetried;
    }

    /** For an error message: how many times a connection was tried, when more than once. */
    String tries() {
        return retries > 0 ? " (tried " + (retries + 1) + " times)" : "";
    }
}
