package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.balancing.Balancer;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.resilience.RetryPolicy;
import dev.trafficmanager.proxy.upstream.ConnectionPool;
import dev.trafficmanager.proxy.upstream.ResponseListener;
import dev.trafficmanager.proxy.upstream.UpstreamProtocol;
import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import dev.trafficmanager.route.RetryOn;
import dev.trafficmanager.route.RouteRetries;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.concurrent.EventExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One exchange's tries at its upstream, and every decision about another: the circuit breaker's
 * admission and the outcome it is told (once per admission), and one {@link RetryDecision} after a
 * failed attempt, for both kinds of retry (after a connection that failed, and the keep-alive race),
 * each within the {@link RetryPolicy}'s budget. A route's own {@code retries} replace the default
 * (connect failures, up to TM_UPSTREAM_RETRIES) with its attempts and conditions. For a route with
 * several endpoints, which endpoint each attempt goes to ({@link Balancer}; a retry goes to another
 * when there is one) and how each did. Confined to the exchange's event loop.
 */
final class UpstreamAttempts {
    private final ProxyServices services;
    private final boolean idempotent;
    private ConnectionPool pool;
    private UpstreamTarget target;
    private EventLoop loop;
    private int retries; // after connections that failed, within the retry policy
    private boolean raceRetried; // the keep-alive race, at most once
    private boolean rewritten; // a retry after the request went out (a reset, a gateway error)
    private boolean breakerHeld; // the breaker let this exchange through and awaits its outcome
    private RouteEntry route; // null for an outside host
    private RouteRetries routeRetries; // the route's own, or null for the default
    private int endpoint = -1; // the current attempt's endpoint, for a route with several
    private long tried; // the endpoints tried, one bit each
    private Object inFlight; // the balancer's token of the current attempt's endpoint
    private boolean endpointReported; // the balancer heard how the current attempt did
    private boolean ended; // the exchange ended: no endpoint is taken any more

    UpstreamAttempts(ProxyServices services, HttpMethod method) {
        this.services = services;
        this.idempotent = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)
                || method.equals(HttpMethod.OPTIONS) || method.equals(HttpMethod.PUT) || method.equals(HttpMethod.DELETE);
    }

    void use(ConnectionPool upstreamPool) {
        this.pool = upstreamPool;
    }

    /** Attempts go to {@code next}, through its pool for {@code protocol} on {@code loop}. */
    void aim(UpstreamTarget next, EventLoop loop, UpstreamProtocol protocol) {
        target = next;
        this.loop = loop;
        use(services.pools().pool(loop, next, protocol));
    }

    /** How many times the request was tried again (the keep-alive race's reconnection included). */
    int retried() {
        return retries + (raceRetried ? 1 : 0);
    }

    /** Where attempts go now. */
    UpstreamTarget target() {
        return target;
    }

    /**
     * Asks the current endpoint's breaker for an attempt; for a route with several endpoints, while it
     * refuses, the others' (the request re-aimed at each), and when every one refuses, goes on
     * without one (panic: the route keeps trying its endpoints). False: the breaker is open.
     */
    boolean admitAnywhere(HttpRequest request, String originForm, Function<UpstreamTarget, UpstreamProtocol> protocols) {
        while (!admit()) {
            if (!balanced()) {
                return false;
            }
            UpstreamTarget other = another();
            if (other == null) {
                force();
                return true;
            }
            reaim(request, originForm, other, protocols);
        }
        return true;
    }

    /** For a retry: another endpoint of the route, when it has one left untried (the request re-aimed at it). */
    private void aimElsewhere(HttpRequest request, String originForm, Function<UpstreamTarget, UpstreamProtocol> protocols) {
        UpstreamTarget other = another();
        if (other != null) {
            reaim(request, originForm, other, protocols);
        }
    }

    private void reaim(HttpRequest request, String originForm, UpstreamTarget next,
                       Function<UpstreamTarget, UpstreamProtocol> protocols) {
        Forwarding.retarget(request, originForm, next);
        aim(next, loop, protocols.apply(next));
    }

    /** The exchange goes to {@code entry}'s route: returns the first attempt's target (its URL, or a balanced endpoint). */
    UpstreamTarget useRoute(RouteEntry entry) {
        route = entry;
        routeRetries = entry.options().retries();
        return entry.endpointTargets().isEmpty() ? entry.target() : pickEndpoint();
    }

    /** Whether the route has several endpoints to balance over. */
    boolean balanced() {
        return endpoint >= 0;
    }

    /** Another endpoint for the next attempt, while some were not tried; null when the route has no other. */
    private UpstreamTarget another() {
        if (!balanced() || ended) {
            return null; // one URL, or an outside host passed through
        }
        long all = route.endpointTargets().size() == 64 ? -1L : (1L << route.endpointTargets().size()) - 1;
        return (tried & all) != all ? pickEndpoint() : null;
    }

    private UpstreamTarget pickEndpoint() {
        finishEndpoint();
        Balancer balancer = services.balancer();
        endpoint = balancer.pick(route, tried);
        tried |= 1L << endpoint;
        inFlight = balancer.started(route, endpoint);
        return route.endpointTargets().get(endpoint);
    }

    private void finishEndpoint() {
        if (inFlight != null) {
            services.balancer().finished(inFlight);
            inFlight = null;
        }
    }

    /** Every endpoint's breaker is open: the attempt goes on without one (panic), so the route keeps trying. */
    private void force() {
        breakerHeld = false;
        endpointReported = false;
        services.balancer().panic(route, () -> "the circuit breakers of all its endpoints are open: trying "
                + target + " anyway");
    }

    /** The upstream does not speak h2c: the request goes over HTTP/1.1 instead. */
    private void useHttp1(HttpRequest request) {
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
        endpointReported = false;
        return true;
    }

    /** Tells the breaker how the upstream did, once per admission (and the balancer, once per attempt). */
    void answered(boolean healthy) {
        answered(healthy, healthy);
    }

    /** The same with the balancer's view apart: any 5xx counts against an endpoint, only 502-504 against the breaker. */
    void answered(boolean healthy, boolean endpointHealthy) {
        if (balanced() && !endpointReported) {
            endpointReported = true;
            services.balancer().record(route, endpoint, endpointHealthy);
        }
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

    /** The exchange ended: gives the admission back if held, and the endpoint's place in flight. */
    void close() {
        ended = true;
        abandon();
        finishEndpoint();
    }

    /**
     * Whether, and how, to try again after {@code failure}. Never once a body byte was sent. A
     * connection that could not be made is retried after a backoff, for an idempotent request, up to
     * the policy's retries (or, with the route's own retries, what they cover, up to their attempts:
     * connect failures, resets, gateway errors); a reused connection closed before any response is reconnected at once,
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
        boolean closed = failure == AttemptFailure.CLOSED_BEFORE_RESPONSE || failure == AttemptFailure.REFUSED;
        boolean refused = failure == AttemptFailure.REFUSED; // the upstream says it processed nothing
        if (closed && (reused || refused) && !raceRetried && (headWriteFailed || refused || idempotent)
                && policy.tryReserve(services.drain()::inFlight)) {
            // The keep-alive race (or a refused stream): once, at once, whatever the route's retries say.
            raceRetried = true;
            decision = new RetryDecision(RetryDecision.Kind.RECONNECT_NOW, 0);
        } else if (failure == AttemptFailure.CONNECT_FAILED && routeRetries == null || routeRetries != null
                && routeRetries.covers(closed ? RetryOn.RESET : failure == AttemptFailure.CONNECT_FAILED
                ? RetryOn.CONNECT_FAILURE : RetryOn.GATEWAY_ERROR)) {
            int max = routeRetries == null ? policy.maxRetries() : routeRetries.attempts();
            if (!idempotent || !policy.tryStart(retries + 1, max, services.drain()::inFlight)) {
                return RetryDecision.GIVE_UP;
            }
            retries++;
            rewritten |= failure != AttemptFailure.CONNECT_FAILED;
            answered(false); // a closed connection's or a gateway error's attempt: told before the next admission
            decision = new RetryDecision(RetryDecision.Kind.RETRY_AFTER_BACKOFF,
                    policy.backoffNanos(retries, ThreadLocalRandom.current()));
        } else {
            return RetryDecision.GIVE_UP;
        }
        services.metrics().upstreamRetries().increment();
        return decision;
    }

    /**
     * What a retry {@link #decide} allowed does when it starts: a new connection to the same upstream
     * (the keep-alive race; the breaker's admission stands), the request over HTTP/1.1, or the whole
     * attempt again ({@code useUpstream}), at another endpoint when the route has one.
     */
    Runnable retry(RetryDecision decision, ResponseListener listener, HttpRequest request, String originForm,
                   Function<UpstreamTarget, UpstreamProtocol> protocols, Runnable useUpstream) {
        return switch (decision.kind()) {
            case RECONNECT_NOW -> () -> pool.connect(listener);
            case FALL_BACK_TO_HTTP1 -> () -> {
                useHttp1(request);
                useUpstream.run();
            };
            default -> () -> {
                aimElsewhere(request, originForm, protocols);
                useUpstream.run();
            };
        };
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

    /** Whether the request goes out again after it was written once (the race's reconnection, a route's retry). */
    boolean resending() {
        return raceRetried || rewritten;
    }

    /** For an error message: how many times a connection was tried, when more than once. */
    String tries() {
        return retries > 0 ? " (tried " + (retries + 1) + " times)" : "";
    }
}
