package dev.trafficmanager.controlapi.metrics;

import dev.trafficmanager.controlapi.http.ApiResponse;
import dev.trafficmanager.controlapi.outbox.OutboxRelay;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control API's meters, served as Prometheus text at {@code GET /metrics}: responses by status
 * class and their latency, and the outbox: its backlog and the age of its oldest unpublished event
 * (read from PostgreSQL at each scrape, on a worker thread), events published and failed relay rounds.
 */
public final class ApiMetrics {
    private static final Logger log = LoggerFactory.getLogger(ApiMetrics.class);
    private static final String BACKLOG_SQL = "SELECT count(*), coalesce(extract(epoch FROM now() - min(occurred_at)), 0)"
            + " FROM route_events WHERE published_at IS NULL";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter[] responsesByClass = new Counter[6];
    private final Timer latency;
    /** The last backlog read: count and oldest age in seconds; NaN when PostgreSQL did not answer. */
    private volatile double[] backlog = {Double.NaN, Double.NaN};
    private DataSource dataSource;

    public ApiMetrics() {
        for (int c = 1; c <= 5; c++) {
            responsesByClass[c] = Counter.builder("tm_api_requests").tag("status_class", c + "xx")
                    .description("responses sent by the control API, by status class").register(registry);
        }
        latency = Timer.builder("tm_api_request_duration")
                .description("from a request taken off the connection to its response written")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(30))
                .register(registry);
    }

    /** Meters the outbox: the relay's counts, and the backlog read by {@code GET /metrics} itself. */
    public ApiMetrics watch(OutboxRelay relay, DataSource dataSource) {
        FunctionCounter.builder("tm_outbox_published", relay, OutboxRelay::publishedCount)
                .description("outbox events the relay published to Kafka").register(registry);
        FunctionCounter.builder("tm_outbox_relay_failures", relay, OutboxRelay::failedRounds)
                .description("relay rounds that failed (Kafka or PostgreSQL unavailable); the events wait").register(registry);
        Gauge.builder("tm_outbox_backlog", this, m -> m.backlog[0])
                .description("outbox events not yet published (NaN when PostgreSQL did not answer the scrape)").register(registry);
        Gauge.builder("tm_outbox_oldest_unpublished_seconds", this, m -> m.backlog[1])
                .description("age of the oldest unpublished outbox event; 0 when none waits").register(registry);
        this.dataSource = dataSource;
        return this;
    }

    /**
     * Counts a response; {@code startedNanos} is when the request was taken off the connection. The
     * probes' and scrapes' own ({@code /healthz}, {@code /metrics}) are not counted: they would water
     * the error ratio down.
     */
    public void responded(HttpResponseStatus status, long startedNanos, String path) {
        if ("/metrics".equals(path) || "/healthz".equals(path)) {
            return;
        }
        int statusClass = status.code() / 100;
        if (statusClass >= 1 && statusClass <= 5) {
            responsesByClass[statusClass].increment();
        }
        latency.record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
    }

    /** The Prometheus text; reads the outbox backlog first (blocks on JDBC: call it on a worker). */
    public ApiResponse scrape() {
        if (dataSource != null) {
            backlog = readBacklog();
        }
        return ApiResponse.json(HttpResponseStatus.OK, new ApiResponse.Raw(
                registry.scrape().getBytes(StandardCharsets.UTF_8), "text/plain; version=0.0.4; charset=utf-8"));
    }

    private double[] readBacklog() {
        try (Connection c = dataSource.getConnection(); PreparedStatement statement = c.prepareStatement(BACKLOG_SQL)) {
            try (ResultSet row = statement.executeQuery()) {
                row.next();
                return new double[] {row.getLong(1), row.getDouble(2)};
            }
        } catch (SQLException | RuntimeException e) {
            log.debug("outbox backlog unknown: {}", e.toString());
            return new double[] {Double.NaN, Double.NaN};
        }
    }
}
