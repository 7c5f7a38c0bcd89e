package dev.trafficmanager.controlapi;

import static dev.trafficmanager.controlapi.ApiClient.urlBody;
import static dev.trafficmanager.controlapi.TestControlApi.ADMIN_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.controlapi.ApiClient.Response;
import dev.trafficmanager.route.RouteEventType;
import dev.trafficmanager.route.RouteProtocol;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The acceptance walk-through of the control API, against real PostgreSQL and Kafka. */
@ExtendWith(LocalStack.class)
class RouteLifecycleTest {
    private static TestControlApi server;
    private static ApiClient client;

    @BeforeAll
    static void start() throws InterruptedException {
        server = TestControlApi.start();
        client = server.client;
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void routeGoesThroughItsWholeLifeAndEveryChangeReachesKafkaKeyedByRoute() {
        String teamA = TestControlApi.unique("team-a");
        String teamB = TestControlApi.unique("team-b");
        String tokenA = client.createTenant(ADMIN_TOKEN, teamA);
        String tokenB = client.createTenant(ADMIN_TOKEN, teamB);
        assertThat(tokenA).startsWith("tm_").isNotEqualTo(tokenB);
        String route = "/v1/routes/" + teamA + "/payments/prod/v2";

        Response created = client.put(route, tokenA, urlBody("http://payments-a:8080/api"));
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.body().get("revision").asLong()).isEqualTo(1);
        assertThat(created.body().get("active").asBoolean()).isTrue();
        assertThat(created.header("ETag")).isEqualTo("\"1\"");

        Response again = client.put(route, tokenA, urlBody("http://payments-a:8080/api"));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.body().get("revision").asLong()).isEqualTo(1);
        assertThat(history(route, tokenA)).containsExactly("created");

        Response changed = client.put(route, ADMIN_TOKEN, urlBody("http://payments-b:8080/api"));
        assertThat(changed.status()).isEqualTo(200);
        assertThat(changed.body().get("revision").asLong()).isEqualTo(2);
        assertThat(changed.body().get("url").asText()).isEqualTo("http://payments-b:8080/api");

        Response deactivated = client.post(route + "/deactivate", tokenA, "");
        assertThat(deactivated.status()).isEqualTo(200);
        assertThat(deactivated.body().get("active").asBoolean()).isFalse();
        assertThat(deactivated.body().get("revision").asLong()).isEqualTo(3);
        Response deactivatedAgain = client.post(route + "/deactivate", tokenA, "");
        assertThat(deactivatedAgain.body().get("revision").asLong()).isEqualTo(3);
        assertThat(history(route, tokenA)).containsExactly("created", "updated", "deactivated");

        Response activated = client.post(route + "/activate", tokenA, "");
        assertThat(activated.body().get("active").asBoolean()).isTrue();
        assertThat(activated.body().get("revision").asLong()).isEqualTo(4);

        Response fetched = client.get(route, tokenA);
        assertThat(fetched.status()).isEqualTo(200);
        assertThat(fetched.body().get("revision").asLong()).isEqualTo(4);
        assertThat(fetched.body().get("createdAt").asText()).isNotBlank();

        assertThat(client.get(route, tokenB).status()).isEqualTo(403);
        assertThat(client.put(route, tokenB, urlBody("http://evil:1")).status()).isEqualTo(403);
        assertThat(client.post(route + "/deactivate", tokenB, "").status()).isEqualTo(403);
        assertThat(client.get(route + "/history", tokenB).status()).isEqualTo(403);
        assertThat(client.get("/v1/routes/" + teamA, tokenB).status()).isEqualTo(403);

        String key = teamA + "/payments/prod/v2";
        List<TopicReader.Message> messages = TopicReader.readUntil(server.topic, Duration.ofSeconds(30),
                read -> read.stream().filter(m -> m.key().equals(key)).count() >= 4);
        List<TopicReader.Message> forRoute = messages.stream().filter(m -> m.key().equals(key)).toList();
        assertThat(forRoute).extracting(m -> m.event().type()).containsExactly(RouteEventType.CREATED,
                RouteEventType.UPDATED, RouteEventType.DEACTIVATED, RouteEventType.ACTIVATED);
        assertThat(forRoute).extracting(m -> m.event().revision()).containsExactly(1L, 2L, 3L, 4L);
        assertThat(forRoute).allSatisfy(m -> assertThat(m.event().key().toString()).isEqualTo(key));
        // the relay stamps the rows published once Kafka has acknowledged them
        Poll.until(Duration.ofSeconds(10), "the history to show every event published", () ->
                java.util.stream.StreamSupport.stream(client.get(route + "/history", tokenA).body().get("items")
                        .spliterator(), false).allMatch(item -> item.get("published").asBoolean()));
    }

    @Test
    void aRouteMayPinItsUpstreamProtocolWhichTravelsInItsEvents() {
        String tenant = TestControlApi.unique("proto");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        String route = "/v1/routes/" + tenant + "/grpc-svc/prod/v1";
        Response created = client.put(route, token, urlBody("http://grpc-svc:9090"));
        assertThat(created.body().get("protocol").asText()).isEqualTo("auto");
        Response pinned = client.put(route, token, "{\"url\":\"http://grpc-svc:9090\",\"protocol\":\"h2\"}");
        assertThat(pinned.status()).isEqualTo(200);
        assertThat(pinned.body().get("protocol").asText()).isEqualTo("h2");
        assertThat(pinned.body().get("revision").asLong()).isEqualTo(2);
        Response same = client.put(route, token, "{\"url\":\"http://grpc-svc:9090\",\"protocol\":\"H2\"}");
        assertThat(same.body().get("revision").asLong()).as("unchanged: nothing bumped").isEqualTo(2);
        assertThat(client.get(route, token).body().get("protocol").asText()).isEqualTo("h2");
        assertThat(client.get(route + "/history", token).body().get("items").get(1).get("protocol").asText()).isEqualTo("h2");

        Response bad = client.put(route, token, "{\"url\":\"http://grpc-svc:9090\",\"protocol\":\"http2\"}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body().get("error").asText()).isEqualTo("invalid_protocol");
        assertThat(bad.body().get("message").asText()).isEqualTo("protocol: \"http2\" (expected: auto, http1 or h2)");
        Response notText = client.put(route, token, "{\"url\":\"http://grpc-svc:9090\",\"protocol\":2}");
        assertThat(notText.status()).isEqualTo(400);
        assertThat(notText.body().get("error").asText()).isEqualTo("invalid_json");
        assertThat(client.get(route, token).body().get("revision").asLong()).as("nothing half-written").isEqualTo(2);

        String key = tenant + "/grpc-svc/prod/v1";
        List<TopicReader.Message> events = TopicReader.readUntil(server.topic, Duration.ofSeconds(30),
                read -> read.stream().filter(m -> m.key().equals(key)).count() >= 2);
        assertThat(events.stream().filter(m -> m.key().equals(key)).map(m -> m.event().protocol()))
                .containsExactly(RouteProtocol.AUTO, RouteProtocol.H2);
    }

    @Test
    void listPagesThroughATenantsRoutesWithFilters() {
        String tenant = TestControlApi.unique("lister");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        for (int i = 0; i < 5; i++) {
            String env = i % 2 == 0 ? "prod" : "dev";
            assertThat(client.put("/v1/routes/" + tenant + "/svc/" + env + "/v" + i, token,
                    urlBody("http://svc-" + i + ":80")).status()).isEqualTo(201);
        }
        client.post("/v1/routes/" + tenant + "/svc/prod/v0/deactivate", token, "");

        Response first = client.get("/v1/routes/" + tenant + "?limit=2", token);
        assertThat(first.body().get("items")).hasSize(2);
        String cursor = first.body().get("nextCursor").asText();
        Response second = client.get("/v1/routes/" + tenant + "?limit=2&cursor=" + cursor, token);
        Response third = client.get("/v1/routes/" + tenant + "?limit=2&cursor="
                + second.body().get("nextCursor").asText(), token);
        assertThat(third.body().get("items")).hasSize(1);
        assertThat(third.body().get("nextCursor").isNull()).isTrue();
        assertThat(first.body().get("items").get(0).get("version").asText()).isEqualTo("v0");
        assertThat(third.body().get("items").get(0).get("version").asText()).isEqualTo("v4");

        Response prodActive = client.get("/v1/routes/" + tenant + "?env=prod&active=true", token);
        assertThat(prodActive.body().get("items")).extracting(n -> n.get("version").asText())
                .containsExactly("v2", "v4");
        assertThat(client.get("/v1/routes/" + TestControlApi.unique("nobody"), ADMIN_TOKEN).error())
                .isEqualTo("tenant_not_found");
    }

    @Test
    void servesHealthAndItsOpenApiDocumentWithoutAToken() {
        assertThat(client.get("/healthz", null).status()).isEqualTo(200);
        Response openApi = client.get("/openapi.yaml", null);
        assertThat(openApi.status()).isEqualTo(200);
        assertThat(openApi.header("Content-Type")).isEqualTo("application/yaml");
        assertThat(openApi.raw().body()).startsWith("openapi: 3.0.3").contains("/v1/routes/{tenant}/{service}/{env}/{version}:");
    }

    @Test
    void ifNoneMatchCreatesOnlyWhatDoesNotExistYet() {
        String tenant = TestControlApi.unique("creator");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        String route = "/v1/routes/" + tenant + "/svc/prod/v1";
        assertThat(client.put(route, token, urlBody("http://a:1"), "If-None-Match", "*").status()).isEqualTo(201);
        Response again = client.put(route, token, urlBody("http://b:1"), "If-None-Match", "*");
        assertThat(again.status()).isEqualTo(412);
        assertThat(again.body().get("message").asText()).contains("If-None-Match: * but route " + tenant + "/svc/prod/v1 exists, at revision 1");
        client.post(route + "/deactivate", token, "");
        assertThat(client.put(route, token, urlBody("http://b:1"), "If-None-Match", "*").error())
                .as("a deactivated route exists").isEqualTo("precondition_failed");
        assertThat(client.put(route, token, urlBody("http://b:1"), "If-None-Match", "\"1\"").error()).isEqualTo("invalid_if_match");
        assertThat(client.put(route, token, urlBody("http://b:1"), "If-None-Match", "*", "If-Match", "2").error())
                .isEqualTo("invalid_if_match");
        String split = "/v1/splits/" + tenant + "/svc/prod";
        assertThat(client.put(split, token, "{\"weights\":{\"v1\":1}}", "If-None-Match", "*").status()).isEqualTo(201);
        assertThat(client.put(split, token, "{\"weights\":{\"v1\":2}}", "If-None-Match", "*").error()).isEqualTo("precondition_failed");
        assertThat(client.get(route, token).body().get("url").asText()).isEqualTo("http://a:1");
        assertThat(client.get(split, token).body().get("weights").get("v1").asInt()).isEqualTo(1);
    }

    @Test
    void ifMatchGuardsEveryWrite() {
        String tenant = TestControlApi.unique("matcher");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        String route = "/v1/routes/" + tenant + "/svc/prod/v1";
        assertThat(client.put(route, token, urlBody("http://a:1"), "If-Match", "\"1\"").error())
                .isEqualTo("precondition_failed");
        client.put(route, token, urlBody("http://a:1"));
        assertThat(client.put(route, token, urlBody("http://b:1"), "If-Match", "\"2\"").status()).isEqualTo(412);
        assertThat(client.post(route + "/deactivate", token, "", "If-Match", "7").status()).isEqualTo(412);
        assertThat(client.put(route, token, urlBody("http://b:1"), "If-Match", "\"1\"").status()).isEqualTo(200);
        assertThat(client.post(route + "/deactivate", token, "", "If-Match", "2").status()).isEqualTo(200);
        assertThat(history(route, token)).containsExactly("created", "updated", "deactivated");
    }

    private static List<String> history(String route, String token) {
        Response response = client.get(route + "/history", token);
        assertThat(response.status()).isEqualTo(200);
        return java.util.stream.StreamSupport.stream(response.body().get("items").spliterator(), false)
                .map(item -> item.get("type").asText()).toList();
    }
}
