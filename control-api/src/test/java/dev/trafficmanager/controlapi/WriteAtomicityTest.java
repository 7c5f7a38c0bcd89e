package dev.trafficmanager.controlapi;

import static dev.trafficmanager.controlapi.ApiClient.urlBody;
import static dev.trafficmanager.controlapi.TestControlApi.ADMIN_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.controlapi.ApiClient.Response;
import dev.trafficmanager.testing.LocalStack;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalStack.class)
class WriteAtomicityTest {
    private static TestControlApi server;
    private static ApiClient client;

    @BeforeAll
    static void start() throws InterruptedException {
        server = TestControlApi.start(Map.of("TM_API_WORKERS", "16"));
        client = server.client;
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void fortyConcurrentIdenticalUpsertsOfANewRouteCreateOneRowAndOneEvent() throws Exception {
        String tenant = TestControlApi.unique("racer");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        // The service and environment exist already, so the racers meet at the endpoint's unique key.
        assertThat(client.put("/v1/routes/" + tenant + "/checkout/prod/v0", token, urlBody("http://checkout:8080"))
                .status()).isEqualTo(201);
        String route = "/v1/routes/" + tenant + "/checkout/prod/v1";
        int writers = 40;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<Response>> results = new ArrayList<>();
            for (int i = 0; i < writers; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    return client.put(route, token, urlBody("http://checkout:8080"));
                }));
            }
            go.countDown();
            List<Integer> statuses = new ArrayList<>();
            for (Future<Response> result : results) {
                Response response = result.get();
                statuses.add(response.status());
                assertThat(response.body().get("revision").asLong()).isEqualTo(1);
            }
            assertThat(statuses).filteredOn(s -> s == 201).hasSize(1);
            assertThat(statuses).filteredOn(s -> s == 200).hasSize(writers - 1);
        } finally {
            pool.shutdownNow();
        }
        String byTenant = " JOIN environments e ON e.id = p.environment_id JOIN services s ON s.id = e.service_id"
                + " JOIN tenants t ON t.id = s.tenant_id WHERE t.name = ?";
        String v1 = byTenant + " AND p.version = 'v1'";
        assertThat(TestControlApi.count("SELECT count(*) FROM endpoints p" + v1, tenant)).isEqualTo(1);
        assertThat(TestControlApi.count("SELECT count(*) FROM route_events ev JOIN endpoints p ON p.id = ev.endpoint_id"
                + v1, tenant)).isEqualTo(1);
        assertThat(TestControlApi.count("SELECT count(*) FROM services s JOIN tenants t ON t.id = s.tenant_id"
                + " WHERE t.name = ?", tenant)).isEqualTo(1);
    }

    @Test
    void aWriteThatFailsMidwayLeavesNothingBehind() throws Exception {
        String tenant = TestControlApi.unique("midway");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        // The event row is the last statement of a create; make PostgreSQL refuse it for one URL, after
        // the service, environment and endpoint rows were already inserted in the same transaction.
        try (Connection c = TestControlApi.db(); Statement statement = c.createStatement()) {
            statement.execute("CREATE OR REPLACE FUNCTION test_fail_event() RETURNS trigger AS $$"
                    + " BEGIN IF NEW.url = 'http://fail-midway:1' THEN RAISE EXCEPTION 'injected failure'; END IF;"
                    + " RETURN NEW; END $$ LANGUAGE plpgsql");
            statement.execute("CREATE OR REPLACE TRIGGER test_fail_event BEFORE INSERT ON route_events"
                    + " FOR EACH ROW EXECUTE FUNCTION test_fail_event()");
        }
        try {
            Map<String, Long> before = TestControlApi.tableCounts();
            Response failed = client.put("/v1/routes/" + tenant + "/fresh/prod/v1", token, urlBody("http://fail-midway:1"));
            assertThat(failed.status()).isEqualTo(500);
            assertThat(failed.error()).isEqualTo("internal_error");
            assertThat(failed.body().get("message").asText()).contains("nothing was written");
            assertThat(TestControlApi.tableCounts()).isEqualTo(before);

            // The same on an update of an existing route: URL and revision stay as they were.
            assertThat(client.put("/v1/routes/" + tenant + "/fresh/prod/v1", token, urlBody("http://ok:1")).status())
                    .isEqualTo(201);
            Map<String, Long> afterCreate = TestControlApi.tableCounts();
            assertThat(client.put("/v1/routes/" + tenant + "/fresh/prod/v1", token, urlBody("http://fail-midway:1"))
                    .status()).isEqualTo(500);
            assertThat(TestControlApi.tableCounts()).isEqualTo(afterCreate);
            Response unchanged = client.get("/v1/routes/" + tenant + "/fresh/prod/v1", token);
            assertThat(unchanged.body().get("url").asText()).isEqualTo("http://ok:1");
            assertThat(unchanged.body().get("revision").asLong()).isEqualTo(1);
        } finally {
            try (Connection c = TestControlApi.db(); Statement statement = c.createStatement()) {
                statement.execute("DROP TRIGGER test_fail_event ON route_events");
                statement.execute("DROP FUNCTION test_fail_event()");
            }
        }
    }
}
