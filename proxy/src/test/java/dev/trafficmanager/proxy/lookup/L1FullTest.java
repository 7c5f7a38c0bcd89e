package dev.trafficmanager.proxy.lookup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.route.RouteEvent;
import dev.trafficmanager.route.RouteEventType;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.testing.Poll;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** An L1 sized for fewer routes than arrive: a warning and a metric, never an error; lookups go on. */
class L1FullTest {
    private static final int EVENTS = 8_000;
    @TempDir
    Path dir;

    @Test
    void aFullL1CountsWhatItCannotHoldAndTheResolverStillAnswers() throws Exception {
        ProxyConfig.Lookup settings = ProxyConfig.fromEnv(Map.of("TM_TENANT", "team")).lookup();
        ProxyMetrics metrics = new ProxyMetrics();
        FakeTiers.Postgres postgres = new FakeTiers.Postgres(System::currentTimeMillis);
        try (L1Store l1 = L1Store.open(dir.resolve("small.l1"), 1000)) {
            Resolver resolver = new Resolver(l1, 100, RouteCache.NONE, postgres, settings, metrics, System::currentTimeMillis);
            try {
                long last = 0;
                for (int i = 0; i < EVENTS; i++) {
                    last = resolver.applyEvent(new RouteEvent(RouteEventType.CREATED,
                            new RouteKey("team", "svc-" + i, "prod", "v1"), "http://10.0.0.1/", true, 1, 1L), false);
                }
                long sequence = last;
                Poll.until(Duration.ofSeconds(30), "every event handled", () -> resolver.eventsDone() >= sequence);
                double full = metrics.registry().get("tm_l1_full_writes").counter().count();
                assertThat(full).isPositive();
                assertThat(l1.size() + (long) full).isEqualTo(EVENTS);
                assertThat(resolver.failure()).isNull();
                assertThat(metrics.registry().get("tm_l1_free_percent").gauge().value()).isLessThan(50); // segments fill unevenly: 18 % was seen left when one could take no more
                // A route L1 could not take is looked up (here in PostgreSQL) and answered.
                String missing = null;
                for (int i = EVENTS - 1; missing == null; i--) {
                    if (resolver.l1().list("team/svc-" + i + "/", 1, k -> true).isEmpty()) {
                        missing = "team/svc-" + i + "/prod/v1";
                    }
                }
                int before = postgres.queries.get();
                RouteEntry answered = resolver.resolve(missing).get().entry();
                assertThat(answered.url()).isEqualTo("http://a:8080/");
                assertThat(postgres.queries.get()).isEqualTo(before + 1);
            } finally {
                resolver.close();
            }
        }
    }
}
