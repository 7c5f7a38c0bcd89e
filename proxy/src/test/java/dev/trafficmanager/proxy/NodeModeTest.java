package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.proxy.agent.AgentClient;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Tier;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node agent and sidecars in node mode: the sidecar reads the agent's L1 file and asks the
 * agent on a miss, with nowhere to reach Kafka, Redis or PostgreSQL (its settings for them point at
 * closed ports); it follows changes at once, keeps serving what L1 holds while the agent is away,
 * answers misses 503 meanwhile, and reconnects by itself.
 */
@ExtendWith(LocalStack.class)
class NodeModeTest {
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream upstreamA;
    private static TestUpstream upstreamB;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        upstreamA = TestUpstream.start("a");
        upstreamB = TestUpstream.start("b");
    }

    @AfterAll
    static void stop() {
        upstreamA.close();
        upstreamB.close();
        harness.close();
    }

    private static Map<String, String> agentEnv(Path l1) {
        Map<String, String> env = harness.sidecarEnv(l1);
        env.remove("TM_TENANT");
        env.put("TM_ALLOWED_TENANTS", harness.tenant);
        return env;
    }

    /** A sidecar whose Kafka, Redis and PostgreSQL settings lead nowhere: it can only use the agent. */
    private static Map<String, String> nodeSidecarEnv(Path l1) {
        Map<String, String> env = new HashMap<>(harness.sidecarEnv(l1));
        env.put("TM_KAFKA_BOOTSTRAP", "127.0.0.1:1");
        env.put("TM_REDIS_URL", "redis://127.0.0.1:1");
        env.put("TM_DB_URL", "jdbc:postgresql://127.0.0.1:1/none");
        env.put("TM_LOOKUP_TIMEOUT_MS", "300");
        return env;
    }

    private static NodeAgent startAgent(Path l1, Path socket) throws Exception {
        NodeAgent agent = NodeAgent.start(ProxyConfig.fromEnv(agentEnv(l1)), socket);
        Poll.until(Duration.ofSeconds(30), "agent ready", agent::ready);
        return agent;
    }

    private static Sidecar startNodeSidecar(Path l1, Path socket) throws Exception {
        Sidecar sidecar = Sidecar.inNodeMode(ProxyConfig.fromEnv(nodeSidecarEnv(l1)), socket);
        Poll.until(Duration.ofSeconds(10), "node sidecar ready", sidecar::ready);
        return sidecar;
    }

    private static String upstreamOf(HttpResponse<String> response) {
        return response.headers().firstValue("x-upstream").orElse("status " + response.statusCode());
    }

    private static double gauge(Sidecar sidecar, String name) {
        return sidecar.metrics().registry().get(name).gauge().value();
    }

    @Test
    void aNodeSidecarServesTheAgentsRoutesAndFollowsAChangeAtOnce() throws Exception {
        Path l1 = dir.resolve("follow.l1");
        Path socket = dir.resolve("follow.sock");
        try (NodeAgent agent = startAgent(l1, socket); Sidecar sidecar = startNodeSidecar(l1, socket)) {
            assertThat(sidecar.usesStores()).isFalse();
            String service = TestControlApiNames.service();
            harness.put(service, "v1", upstreamA.url("/"));
            Poll.until(Duration.ofSeconds(10), "route served from the agent's L1",
                    () -> upstreamOf(harness.get(sidecar, "/", service, "v1")).equals("a"));
            // Now in the sidecar's near cache; the change must replace it there as soon as L1 has it.
            assertThat(upstreamOf(harness.get(sidecar, "/", service, "v1"))).isEqualTo("a");
            harness.put(service, "v1", upstreamB.url("/"));
            Poll.until(Duration.ofSeconds(10), "the change served", () -> upstreamOf(harness.get(sidecar, "/", service, "v1")).equals("b"));
            // Never back to the old one once the new one was seen.
            for (int i = 0; i < 20; i++) {
                assertThat(upstreamOf(harness.get(sidecar, "/", service, "v1"))).isEqualTo("b");
            }
            assertThat(SidecarHarness.lookups(sidecar, Tier.POSTGRES)).isZero();
            assertThat(SidecarHarness.lookups(sidecar, Tier.REDIS)).isZero();
        }
    }

    @Test
    void aMissIsAskedOfTheAgentWhichAnswersFromPostgres() throws Exception {
        Path l1 = dir.resolve("miss.l1");
        Path socket = dir.resolve("miss.sock");
        try (NodeAgent agent = startAgent(l1, socket); Sidecar sidecar = startNodeSidecar(l1, socket)) {
            HttpResponse<String> unknown = harness.get(sidecar, "/", "no-such-service", "v1");
            assertThat(unknown.statusCode()).isEqualTo(404);
            assertThat(unknown.body()).contains("route_not_found");
            assertThat(SidecarHarness.lookups(sidecar, Tier.AGENT)).isPositive();
            assertThat(agent.metrics().registry().get("tm_agent_lookups").counter().count()).isPositive();
        }
    }

    @Test
    void aNodeSidecarTakesASplitFromTheAgent() throws Exception {
        Path l1 = dir.resolve("split.l1");
        Path socket = dir.resolve("split.sock");
        try (NodeAgent agent = startAgent(l1, socket); Sidecar sidecar = startNodeSidecar(l1, socket)) {
            String service = TestControlApiNames.service();
            harness.put(service, "v1", upstreamA.url("/"));
            harness.put(service, "v2", upstreamB.url("/"));
            // No split and no default version: the split key is asked of the agent, which has none.
            HttpResponse<String> none = harness.get(sidecar, "/", service, null);
            assertThat(none.statusCode()).isEqualTo(400);
            assertThat(none.body()).contains("missing_route_header").contains("has no split");
            assertThat(harness.api.client.put("/v1/splits/" + harness.tenant + "/" + service + "/prod", harness.token,
                    "{\"weights\":{\"v1\":0,\"v2\":1}}").status()).isEqualTo(201);
            Poll.until(Duration.ofSeconds(10), "the split served through the agent",
                    () -> upstreamOf(harness.get(sidecar, "/", service, null)).equals("b"));
            assertThat(SidecarHarness.lookups(sidecar, Tier.POSTGRES)).isZero();
        }
    }

    @Test
    void whileTheAgentIsAwayKnownRoutesAreServedAndMissesGet503ThenTheSidecarReconnects() throws Exception {
        Path l1 = dir.resolve("away.l1");
        Path socket = dir.resolve("away.sock");
        String service = TestControlApiNames.service();
        NodeAgent agent = startAgent(l1, socket);
        try (Sidecar sidecar = startNodeSidecar(l1, socket)) {
            harness.put(service, "v1", upstreamA.url("/"));
            Poll.until(Duration.ofSeconds(10), "route served", () -> upstreamOf(harness.get(sidecar, "/", service, "v1")).equals("a"));
            agent.close();
            Poll.until(Duration.ofSeconds(5), "sidecar saw the agent go", () -> gauge(sidecar, "tm_agent_connected") == 0);
            for (int i = 0; i < 20; i++) {
                assertThat(upstreamOf(harness.get(sidecar, "/", service, "v1"))).isEqualTo("a");
            }
            long started = System.nanoTime();
            HttpResponse<String> miss = harness.get(sidecar, "/", "unknown-while-away", "v1");
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertThat(miss.statusCode()).isEqualTo(503);
            assertThat(miss.body()).contains("route_lookup_unavailable");
            assertThat(millis).isLessThan(2_000);
            assertThat(sidecar.ready()).isTrue(); // it still routes what L1 holds

            agent = startAgent(l1, socket);
            NodeAgent restarted = agent;
            Poll.until(Duration.ofSeconds(10), "sidecar reconnected", () -> gauge(sidecar, "tm_agent_connected") == 1);
            Poll.until(Duration.ofSeconds(10), "misses answered again", // the breaker may hold a little longer
                    () -> harness.get(sidecar, "/", "unknown-after-return", "v1").statusCode() == 404);
            assertThat(sidecar.metrics().registry().get("tm_agent_reconnects").counter().count()).isPositive();
            assertThat(restarted.ready()).isTrue();
        } finally {
            agent.close();
        }
    }

    @Test
    void theAgentRefusesTenantsItDoesNotServe() throws Exception {
        Path l1 = dir.resolve("tenant.l1");
        Path socket = dir.resolve("tenant.sock");
        try (NodeAgent agent = startAgent(l1, socket)) {
            AgentClient client = new AgentClient(socket, Duration.ofSeconds(2), new ProxyMetrics());
            try {
                Poll.until(Duration.ofSeconds(5), "client connected", client::connected);
                assertThat(client.fetch(harness.tenant + "/none/prod/v1").toCompletableFuture().join().exists()).isFalse();
                assertThat(client.fetch("other-tenant/payments/prod/v1").toCompletableFuture())
                        .failsWithin(Duration.ofSeconds(5))
                        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                        .withMessageContaining("does not serve tenant other-tenant");
                assertThat(client.fetch("not a key").toCompletableFuture()).failsWithin(Duration.ofSeconds(5))
                        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                        .withMessageContaining("not a route key");
            } finally {
                client.close();
            }
        }
    }

    /** Unique service names. */
    private static final class TestControlApiNames {
        static String service() {
            return dev.trafficmanager.controlapi.TestControlApi.unique("svc");
        }
    }
}
