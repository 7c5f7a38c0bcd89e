package dev.trafficmanager.proxy.metrics;

import dev.trafficmanager.proxy.resilience.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every meter of the sidecar, created once at start so the request path only increments
 * pre-registered counters (no tag lookups, no allocation). Thread-safe. {@link #scrape()} is the
 * Prometheus text of {@code /metrics}.
 */
public final class ProxyMetrics {
    private static final Logger log = LoggerFactory.getLogger(CircuitBreaker.class);

    /** The tier that answered a lookup; {@code NEAR} is the on-heap copy of L1. */
    public enum Tier {
        NEAR, L1, REDIS, POSTGRES, AGENT;

        private final String label = name().toLowerCase(java.util.Locale.ROOT);

        /** Its name in meters, the admin port and the access log: {@code near}, {@code l1}... */
        public String label() {
            return label;
        }
    }

    /** What a tier said: a route, a known absence (or inactive route), nothing, or a failure. */
    public enum Result { HIT, NEGATIVE, MISS, ERROR }

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter[] requestsByClass = new Counter[6];
    private final Map<Tier, Counter[]> lookups = new EnumMap<>(Tier.class);
    private final Timer upstreamLatency;
    private final Counter staleServes;
    private final Counter lookupWaits;
    private final Counter lookupsUnavailable;
    private final Counter eventsApplied;
    private final Counter eventsIgnored;
    private final Counter eventsUndecodable;
    private final Counter l1WritesDropped;
    private final Counter upstreamRetries;
    private final Counter splitSkips;
    private final Counter splitLookupsFailed;
    private final Counter revisionRegressions;
    private final Counter l1LockBusy;
    private final Map<Tier, Counter> invalidEntries = new EnumMap<>(Tier.class);
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    // Error codes and pass-through kinds are a small fixed set: a counter each, made on first use.
    private final Map<String, Counter> errors = new ConcurrentHashMap<>();
    private final Map<String, Counter> passThroughs = new ConcurrentHashMap<>();
    private final Map<String, Counter> upgrades = new ConcurrentHashMap<>();
    private final LongAdder tunnelsOpen = new LongAdder();

    public ProxyMetrics() {
        // The JVM's own: heap and off-heap use, GC pauses, CPU, so a platform team can watch the sidecar's
        // footprint with the meters it watches elsewhere.
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        for (int c = 1; c <= 5; c++) {
            requestsByClass[c] = Counter.builder("tm_proxy_requests").tag("status_class", c + "xx")
                    .description("responses sent by the proxy port, by status class").register(registry);
        }
        for (Tier tier : Tier.values()) {
            Counter[] byResult = new Counter[Result.values().length];
            for (Result result : Result.values()) {
                byResult[result.ordinal()] = Counter.builder("tm_route_lookups")
                        .tag("tier", tier.label()).tag("result", result.name().toLowerCase())
                        .description("route lookups by the tier asked and its answer").register(registry);
            }
            lookups.put(tier, byResult);
            invalidEntries.put(tier, Counter.builder("tm_route_entries_invalid").tag("tier", tier.label())
                    .description("cached entries refused as invalid (bad URL or revision, undecodable, confirmed in the future) and treated as misses")
                    .register(registry));
        }
        upstreamLatency = Timer.builder("tm_upstream_latency")
                .description("from the request sent upstream to the response's headers")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry);
        staleServes = counter("tm_route_stale_serves", "requests routed by an expired entry because no tier could confirm it");
        lookupWaits = counter("tm_route_lookup_waits", "requests that waited for a lookup already in flight for their key");
        lookupsUnavailable = counter("tm_route_lookup_unavailable", "requests answered 503 route_lookup_unavailable");
        eventsApplied = counter("tm_kafka_events_applied", "route events that changed L1");
        eventsIgnored = counter("tm_kafka_events_ignored", "route events older than or equal to what L1 held");
        eventsUndecodable = counter("tm_kafka_events_undecodable", "records on the topic that are not route events");
        l1WritesDropped = counter("tm_l1_writes_dropped", "lookup results not written to L1 because the writer queue was full");
        l1LockBusy = counter("tm_l1_lock_busy", "L1 reads and writes that found their segment locked (by a process that died holding it?) and went on without it");
        revisionRegressions = counter("tm_route_revision_regressions", "PostgreSQL answers that replaced a higher revision a cache held");
        gauge("tm_proxy_tunnels_open", "connections relaying bytes both ways: CONNECT tunnels and accepted upgrades (WebSocket)",
                tunnelsOpen::sum);
        splitLookupsFailed = counter("tm_split_lookups_failed", "requests naming no version routed by the default version because no tier could say whether their service has a split");
        splitSkips = counter("tm_split_versions_skipped", "versions a split chose whose route is missing or inactive: the next version took the request");
        upstreamRetries = counter("tm_upstream_retries", "requests tried again because they never reached their upstream (a refused connection, or a reused one the upstream closed)");
    }

    /** The meters, for tests and tools that read one by name. */
    public io.micrometer.core.instrument.MeterRegistry registry() {
        return registry;
    }

    /** A counter of its own for a part of the sidecar (registered once per name). */
    public Counter counter(String name, String description) {
        return Counter.builder(name).description(description).register(registry);
    }

    /** Registers a gauge read at scrape time. */
    public void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value).description(description).register(registry);
    }

    public void response(int status) {
        int statusClass = status / 100;
        if (statusClass >= 1 && statusClass <= 5) {
            requestsByClass[statusClass].increment();
        }
    }

    /** An error response the sidecar wrote itself, by its code ({@code tenant_forbidden}, ...). */
    public void error(String code) {
        errors.computeIfAbsent(code, c -> Counter.builder("tm_proxy_errors").tag("code", c)
                .description("error responses the sidecar wrote itself, by error code").register(registry)).increment();
    }

    /** A request to an outside host passed through: {@code http}, or a {@code connect} tunnel opened. */
    public void passThrough(String kind) {
        passThroughs.computeIfAbsent(kind, k -> Counter.builder("tm_proxy_passthrough").tag("kind", k)
                .description("requests to outside hosts passed through (TM_OUTBOUND_POLICY=allow-any)").register(registry))
                .increment();
    }

    /** An upgrade the upstream accepted (101), by its protocol: {@code websocket}, else {@code other}. */
    public void upgraded(String protocol) {
        String kind = "websocket".equalsIgnoreCase(protocol) ? "websocket" : "other";
        upgrades.computeIfAbsent(kind, k -> Counter.builder("tm_proxy_upgrades").tag("protocol", k)
                .description("HTTP/1.1 upgrades (101 Switching Protocols) relayed and tunnelled").register(registry))
                .increment();
    }

    public double upgrades(String kind) {
        return count(upgrades.get(kind));
    }

    /** Tunnels open now (CONNECT and upgrades): incremented when one opens, decremented when it closes. */
    public LongAdder tunnelsOpen() {
        return tunnelsOpen;
    }

    public double errors(String code) {
        return count(errors.get(code));
    }

    public double passThroughs(String kind) {
        return count(passThroughs.get(kind));
    }

    private static double count(Counter counter) {
        return counter == null ? 0 : counter.count();
    }

    public void lookup(Tier tier, Result result) {
        lookups.get(tier)[result.ordinal()].increment();
    }

    public double lookups(Tier tier, Result result) {
        return lookups.get(tier)[result.ordinal()].count();
    }

    public void upstreamLatency(long nanos) {
        upstreamLatency.record(nanos, TimeUnit.NANOSECONDS);
    }

    public Counter staleServes() {
        return staleServes;
    }

    public Counter lookupWaits() {
        return lookupWaits;
    }

    public Counter lookupsUnavailable() {
        return lookupsUnavailable;
    }

    public Counter eventsApplied() {
        return eventsApplied;
    }

    public Counter eventsIgnored() {
        return eventsIgnored;
    }

    public Counter eventsUndecodable() {
        return eventsUndecodable;
    }

    public Counter l1WritesDropped() {
        return l1WritesDropped;
    }

    public Counter upstreamRetries() {
        return upstreamRetries;
    }

    public Counter splitLookupsFailed() {
        return splitLookupsFailed;
    }

    public Counter splitSkips() {
        return splitSkips;
    }

    public Counter l1LockBusy() {
        return l1LockBusy;
    }

    public Counter revisionRegressions() {
        return revisionRegressions;
    }

    /** Entries from {@code tier} refused as invalid. */
    public Counter invalidEntries(Tier tier) {
        return invalidEntries.get(tier);
    }

    /**
     * The breakers of one kind ({@code redis}, {@code postgres} or {@code upstream}): its rejection
     * counter and a listener that counts and logs every change of state.
     */
    public Breakers breakers(String kind) {
        Counter rejections = Counter.builder("tm_circuit_breaker_rejections").tag("breaker", kind)
                .description("calls refused at once because a circuit breaker was open").register(registry);
        Map<CircuitBreaker.State, Counter> transitions = new EnumMap<>(CircuitBreaker.State.class);
        for (CircuitBreaker.State state : CircuitBreaker.State.values()) {
            transitions.put(state, Counter.builder("tm_circuit_breaker_transitions").tag("breaker", kind)
                    .tag("to", state.name().toLowerCase()).description("circuit breaker changes of state")
                    .register(registry));
        }
        return new Breakers(rejections, (breaker, from, to) -> {
            transitions.get(to).increment();
            if (to == CircuitBreaker.State.OPEN) {
                log.warn("circuit breaker {} opened (was {}): calls are refused for a while", breaker.name(), from);
            } else {
                log.info("circuit breaker {}: {} -> {}", breaker.name(), from, to);
            }
        });
    }

    /** See {@link #breakers(String)}. */
    public record Breakers(Counter rejections, CircuitBreaker.Listener listener) {
    }

    public String scrape() {
        return registry.scrape();
    }

    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
