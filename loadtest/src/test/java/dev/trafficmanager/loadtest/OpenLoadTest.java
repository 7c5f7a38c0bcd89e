package dev.trafficmanager.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.trafficmanager.testing.NoLeaksExtension;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(NoLeaksExtension.class)
class OpenLoadTest {
    private HttpServer server;
    private ExecutorService threads;
    private final AtomicLong firstRequestNanos = new AtomicLong();
    private volatile int status = 200;
    /** Requests arriving this long after the first one wait until the stall ends; 0: no stall. */
    private volatile long stallFromMillis;
    private volatile long stallToMillis;

    @BeforeEach
    void startServer() throws Exception {
        System.setProperty("sun.net.httpserver.nodelay", "true");
        threads = Executors.newFixedThreadPool(32);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.setExecutor(threads);
        server.createContext("/", exchange -> {
            long now = System.nanoTime();
            firstRequestNanos.compareAndSet(0, now);
            long sinceFirst = TimeUnit.NANOSECONDS.toMillis(now - firstRequestNanos.get());
            if (stallToMillis > 0 && sinceFirst >= stallFromMillis && sinceFirst < stallToMillis) {
                long until = firstRequestNanos.get() + TimeUnit.MILLISECONDS.toNanos(stallToMillis);
                while (System.nanoTime() < until) {
                    java.util.concurrent.locks.LockSupport.parkNanos(until - System.nanoTime());
                }
            }
            byte[] body = "ok\n".getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
        threads.shutdownNow();
    }

    private OpenLoad.Options options(int rate, Duration duration, int connections) {
        return options(rate, Duration.ZERO, duration, connections);
    }

    private OpenLoad.Options options(int rate, Duration warmup, Duration duration, int connections) {
        return new OpenLoad.Options("127.0.0.1", server.getAddress().getPort(), "/", Map.of("x-tm-service", "hello"),
                rate, warmup, duration, connections);
    }

    @Test
    void sendsAtTheRequestedRate() throws Exception {
        OpenLoad.Result result = OpenLoad.run(options(200, Duration.ofSeconds(1), 4));

        assertThat(result.completed()).isEqualTo(200);
        assertThat(result.errors()).isZero();
        assertThat(result.unsent()).isZero();
        assertThat(result.latencyMicros().getTotalCount()).isEqualTo(200);
    }

    @Test
    void countsResponsesOtherThan2xxAsErrors() throws Exception {
        status = 503;
        OpenLoad.Result result = OpenLoad.run(options(100, Duration.ofSeconds(1), 2));

        assertThat(result.completed()).isEqualTo(100);
        assertThat(result.errors()).isEqualTo(100);
    }

    /**
     * The server stalls for 500 ms. A closed-model tool would count one slow request per connection
     * (4); counted from their due times, every request due during the stall is slow: those due in
     * its first 400 ms waited more than 100 ms (160 of 800), and more due after it wait behind the
     * backlog; those due before it (280) were fast.
     */
    @Test
    void aStallDelaysEveryRequestDueDuringIt() throws Exception {
        // 500 ms of warm-up, not recorded (a cold JVM answered its first requests late: it failed
        // once from a fresh clone with only 145 fast ones); the stall starts 700 ms after it.
        stallFromMillis = 1200;
        stallToMillis = 1700;
        OpenLoad.Result result = OpenLoad.run(options(400, Duration.ofMillis(500), Duration.ofSeconds(2), 4));

        Histogram latency = result.latencyMicros();
        long slow = latency.getTotalCount() - latency.getCountBetweenValues(0, 100_000);
        assertThat(result.completed()).isEqualTo(800);
        assertThat(result.errors()).isZero();
        assertThat(slow).isGreaterThanOrEqualTo(150L);
        // the 280 requests due before the stall were answered at once
        assertThat(latency.getCountBetweenValues(0, 100_000)).isGreaterThanOrEqualTo(250L);
        assertThat(latency.getMaxValue()).isBetween(400_000L, 800_000L);
    }

    @Test
    void anUnreachableTargetIsAClearError() {
        server.stop(0);
        assertThatThrownBy(() -> OpenLoad.run(options(10, Duration.ofSeconds(1), 1)))
                .hasRootCauseInstanceOf(java.net.ConnectException.class)
                .hasMessageContaining("cannot connect to 127.0.0.1");
    }
}
