package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.controlapi.TestControlApi;
import dev.trafficmanager.proxy.lookup.PostgresRouteSource;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Tier;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.TestUpstream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lookups through the local stack's PgBouncer in transaction mode: many statements on few server
 * connections work (no server-side named statement a transaction pooler would lose), and a
 * sidecar whose only database URL is PgBouncer's routes a route it never had an event for.
 */
@ExtendWith(LocalStack.class)
class PgBouncerLookupTest {
    @TempDir
    Path dir;

    /** The test database, through PgBouncer (the sidecar settings of the local stack name its port). */
    private static String bouncerUrl() {
        String bouncer = LocalStack.clientEnv("sidecar").get("TM_DB_URL");
        String direct = TestControlApi.jdbcUrl();
        return bouncer.substring(0, bouncer.lastIndexOf('/') + 1) + direct.substring(direct.lastIndexOf('/') + 1);
    }

    @Test
    void manyLookupsOnAFewPooledConnectionsAllAnswer() throws Exception {
        Map<String, String> env = LocalStack.clientEnv("sidecar");
        assertThat(env.get("TM_DB_URL")).doesNotContain(":" + LocalStack.jdbcUrl().replaceAll(".*:(\\d+)/.*", "$1") + "/");
        try (SidecarHarness harness = SidecarHarness.start()) {
            harness.put("bounced", "v1", "http://10.3.0.1/");
            PostgresRouteSource source = new PostgresRouteSource(bouncerUrl(), env.get("TM_DB_USER"),
                    env.get("TM_DB_PASSWORD"), 4, Duration.ofSeconds(2), System::currentTimeMillis);
            try {
                // pgjdbc would switch to a named server-side statement from the 5th use: 400 uses,
                // 8 at a time over 4 client connections and PgBouncer's shared server connections.
                for (int round = 0; round < 50; round++) {
                    List<CompletableFuture<RouteEntry>> answers = new ArrayList<>();
                    for (int i = 0; i < 8; i++) {
                        answers.add(source.fetch(harness.key("bounced")).toCompletableFuture());
                    }
                    for (CompletableFuture<RouteEntry> answer : answers) {
                        assertThat(answer.get().url()).isEqualTo("http://10.3.0.1/");
                    }
                }
                assertThat(source.fetch(harness.tenant + "/absent/prod/v1").toCompletableFuture().get().exists()).isFalse();
            } finally {
                source.close();
            }
        }
    }

    @Test
    void aSidecarLooksUpThroughPgBouncer() throws Exception {
        try (SidecarHarness harness = SidecarHarness.start(); TestUpstream upstream = TestUpstream.start("b")) {
            Map<String, String> env = harness.isolatedSidecarEnv(dir.resolve("routes.l1"));
            env.put("TM_DB_URL", bouncerUrl());
            env.put("TM_REDIS_URL", "off");
            harness.put("via-bouncer", "v1", upstream.url("/"));
            try (Sidecar sidecar = SidecarHarness.startSidecar(env)) { // its topic has no event: never "caught up"
                assertThat(harness.get(sidecar, "/", "via-bouncer", "v1").statusCode()).isEqualTo(200);
                assertThat(SidecarHarness.lookups(sidecar, Tier.POSTGRES)).isEqualTo(1);
            }
        }
    }
}
