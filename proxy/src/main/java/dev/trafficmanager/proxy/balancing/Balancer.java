package dev.trafficmanager.proxy.balancing;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import dev.trafficmanager.route.Endpoint;
import io.micrometer.core.instrument.Counter;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Balances the requests of routes that list several endpoints, per request, like Envoy's default:
 * power of two choices, least request, weighted (two endpoints drawn by weight, the one with fewer
 * requests in flight per unit of weight wins). An endpoint that fails {@code consecutiveFailures}
 * times in a row (connect failures, resets, 5xx) is ejected for the base time × the times it has
 * been ejected (at most 300 s; one ejection is forgotten per base time back in the balancing),
 * unless that would eject more than half of the route's endpoints. When fewer than
 * {@code panicPercent} % of a route's endpoints are in, it balances over all of them (panic):
 * a route keeps trying its endpoints rather than failing every request. Ejections, returns, capped
 * ejections and panics are counted and logged. Thread-safe: event loops share it.
 */
public final class Balancer {
    private static final Logger log = LoggerFactory.getLogger(Balancer.class);
    private static final long PANIC_LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** The longest ejection, unless the base is longer (Envoy's {@code max_ejection_time} default). */
    private static final long MAX_EJECTION_NANOS = TimeUnit.SECONDS.toNanos(300);

    private final ConcurrentHashMap<String, EndpointState> states = new ConcurrentHashMap<>();
    private final ProxyConfig.Balancing settings;
    private final LongSupplier nanoClock;
    private final Counter ejections;
    private final Counter returns;
    private final Counter capped;
    private final Counter panics;
    private volatile long lastPanicLog;

    public Balancer(ProxyConfig.Balancing settings, ProxyMetrics metrics, LongSupplier nanoClock) {
        this.settings = settings;
        this.nanoClock = nanoClock;
        this.ejections = metrics.counter("tm_endpoint_ejections", "endpoints ejected from their routes' balancing after consecutive failures");
        this.returns = metrics.counter("tm_endpoint_returns", "ejected endpoints back in the balancing after their ejection time");
        this.capped = metrics.counter("tm_endpoint_ejections_capped", "ejections not made because half of a route's endpoints were out already");
        this.panics = metrics.counter("tm_endpoint_panic_picks", "requests balanced over every endpoint of a route, or sent past open breakers, because too few endpoints were healthy (panic)");
        metrics.gauge("tm_endpoints_ejected", "endpoints ejected now", this::ejectedNow);
    }

    /**
     * The index of the endpoint for an attempt at {@code entry} (a route with several endpoints),
     * avoiding the indexes set in {@code tried} while others are left; every index is a bit of the
     * mask (a route has at most 64 endpoints).
     */
    public int pick(RouteEntry entry, long tried) {
        List<UpstreamTarget> targets = entry.endpointTargets();
        List<Endpoint> endpoints = entry.endpoints();
        int n = targets.size();
        long now = nanoClock.getAsLong();
        long in = 0;
        int inCount = 0;
        EndpointState[] states = new EndpointState[n];
        for (int i = 0; i < n; i++) {
            EndpointState state = states[i] = state(targets.get(i));
            if (state.returned(now)) {
                returns.increment();
                log.info("endpoint {} of route {} is back in the balancing after its ejection", state.name, entry.key());
            }
            if (!state.ejected(now)) {
                in |= 1L << i;
                inCount++;
            }
        }
        long all = n == 64 ? -1L : (1L << n) - 1;
        long candidates = in;
        if (inCount * 100 < settings.panicPercent() * n || in == 0) {
            candidates = all;
            int counted = inCount;
            panic(entry, () -> counted + " of its " + n + " endpoints are in the balancing, below the panic threshold of "
                    + settings.panicPercent() + " %: balancing over all of them");
        }
        if ((candidates & ~tried) != 0) {
            candidates &= ~tried;
        } else if ((all & ~tried) != 0) {
            candidates = all & ~tried; // every endpoint in was tried: one that is out beats one tried again
        }
        int first = draw(endpoints, candidates);
        int second = Long.bitCount(candidates) > 1 ? draw(endpoints, candidates & ~(1L << first)) : first;
        return load(states, endpoints, second) < load(states, endpoints, first) ? second : first;
    }

    /** A request of {@code entry} goes on despite its endpoints' health ({@code why}): counted, logged at most every 10 s. */
    public void panic(RouteEntry entry, Supplier<String> why) {
        panics.increment();
        long now = nanoClock.getAsLong();
        if (now - lastPanicLog > PANIC_LOG_INTERVAL_NANOS) {
            lastPanicLog = now;
            log.warn("route {}: {}", entry.key(), why.get());
        }
    }

    /** An attempt at endpoint {@code index} of {@code entry} starts: counted in flight until {@link #finished}. */
    public Object started(RouteEntry entry, int index) {
        EndpointState state = state(entry.endpointTargets().get(index));
        state.active.incrementAndGet();
        return state;
    }

    /** The attempt {@link #started} returned {@code token} for is over. */
    public void finished(Object token) {
        ((EndpointState) token).active.decrementAndGet();
    }

    /**
     * How endpoint {@code index} of {@code entry} did: a success clears its failures; a failure that
     * makes {@code consecutiveFailures} in a row ejects it, unless half the route's endpoints are out.
     */
    public void record(RouteEntry entry, int index, boolean ok) {
        List<UpstreamTarget> targets = entry.endpointTargets();
        EndpointState state = state(targets.get(index));
        if (ok) {
            state.consecutiveFailures.set(0);
            state.healthy(nanoClock.getAsLong(), settings.baseEjection().toNanos());
            return;
        }
        if (state.consecutiveFailures.incrementAndGet() < settings.consecutiveFailures()) {
            return;
        }
        synchronized (this) {
            long now = nanoClock.getAsLong();
            if (state.ejected(now) || state.consecutiveFailures.get() < settings.consecutiveFailures()) {
                return;
            }
            int out = 0;
            for (UpstreamTarget target : targets) {
                out += state(target).ejected(now) ? 1 : 0;
            }
            if ((out + 1) * 2 > targets.size()) {
                state.consecutiveFailures.set(0); // counted again from zero, not on every failure from now on
                capped.increment();
                log.debug("endpoint {} of route {} failed {} times in a row but stays in: {} of {} endpoints are out",
                        state.name, entry.key(), state.consecutiveFailures.get(), out, targets.size());
                return;
            }
            long nanos = state.eject(now, settings.baseEjection().toNanos(), MAX_EJECTION_NANOS);
            state.consecutiveFailures.set(0);
            ejections.increment();
            log.warn("endpoint {} of route {} ejected for {} ms after {} failures in a row (ejection {})", state.name,
                    entry.key(), TimeUnit.NANOSECONDS.toMillis(nanos), settings.consecutiveFailures(), state.timesEjected());
        }
    }

    /** Requests in flight to endpoint {@code index} of {@code entry}, from every route that lists it. */
    public int inFlight(RouteEntry entry, int index) {
        return state(entry.endpointTargets().get(index)).active.get();
    }

    /** Whether endpoint {@code index} of {@code entry} is ejected now. */
    public boolean ejected(RouteEntry entry, int index) {
        return state(entry.endpointTargets().get(index)).ejected(nanoClock.getAsLong());
    }

    private EndpointState state(UpstreamTarget target) {
        EndpointState state = states.get(target.poolKey());
        return state != null ? state : states.computeIfAbsent(target.poolKey(), EndpointState::new);
    }

    private static double load(EndpointState[] states, List<Endpoint> endpoints, int index) {
        return (states[index].active.get() + 1.0) / endpoints.get(index).weight();
    }

    /** An index of the mask, drawn with probability proportional to its endpoint's weight. */
    private static int draw(List<Endpoint> endpoints, long mask) {
        long total = 0;
        for (long m = mask; m != 0; m &= m - 1) {
            total += endpoints.get(Long.numberOfTrailingZeros(m)).weight();
        }
        long r = ThreadLocalRandom.current().nextLong(total);
        for (long m = mask; m != 0; m &= m - 1) {
            int i = Long.numberOfTrailingZeros(m);
            r -= endpoints.get(i).weight();
            if (r < 0) {
                return i;
            }
        }
        throw new IllegalStateException("no endpoint in the mask");
    }

    private int ejectedNow() {
        long now = nanoClock.getAsLong();
        int out = 0;
        for (EndpointState state : states.values()) {
            out += state.ejected(now) ? 1 : 0;
        }
        return out;
    }
}
