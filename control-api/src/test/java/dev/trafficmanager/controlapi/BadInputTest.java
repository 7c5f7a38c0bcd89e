package dev.trafficmanager.controlapi;

import static dev.trafficmanager.controlapi.ApiClient.urlBody;
import static dev.trafficmanager.controlapi.TestControlApi.ADMIN_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;


import dev.trafficmanager.controlapi.ApiClient.Response;
import dev.trafficmanager.controlapi.auth.Authenticator;
import dev.trafficmanager.testing.LocalStack;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every bad input gets its documented 4xx and a JSON error, and leaves the database unchanged. */
@ExtendWith(LocalStack.class)
class BadInputTest {
    private static TestControlApi server;
    private static ApiClient client;
    private static String tenant;
    private static String token;
    private static String otherToken;
    private static String route;

    @BeforeAll
    static void start() throws InterruptedException {
        server = TestControlApi.start();
        client = server.client;
        tenant = TestControlApi.unique("strict");
        token = client.createTenant(ADMIN_TOKEN, tenant);
        otherToken = client.createTenant(ADMIN_TOKEN, TestControlApi.unique("other"));
        route = "/v1/routes/" + tenant + "/svc/prod/v1";
        assertThat(client.put(route, token, urlBody("http://svc:8080")).status()).isEqualTo(201);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private Map<String, Long> before;

    @BeforeEach
    void snapshot() {
        before = TestControlApi.tableCounts();
    }

    private void refused(int status, String code, Supplier<Response> request) {
        Response response = request.get();
        assertThat(response.status()).as("status of %s", response.body()).isEqualTo(status);
        assertThat(response.error()).isEqualTo(code);
        assertThat(response.body().get("message").asText()).isNotBlank();
        assertThat(response.header("Content-Type")).isEqualTo("application/json");
        assertThat(TestControlApi.tableCounts()).isEqualTo(before);
    }

    @Test
    void badJsonBodies() {
        refused(400, "invalid_json", () -> client.put(route, token, "{\"url\":"));
        refused(400, "invalid_json", () -> client.put(route, token, "not json"));
        refused(400, "invalid_json", () -> client.put(route, token, ""));
        refused(400, "invalid_json", () -> client.put(route, token, "[\"http://a:1\"]"));
        refused(400, "invalid_json", () -> client.put(route, token, "{}"));
        refused(400, "invalid_json", () -> client.put(route, token, "{\"url\": 42}"));
        refused(400, "invalid_json", () -> client.put(route, token, "{\"url\":\"http://a:1\",\"extra\":1}"));
        refused(400, "invalid_json", () -> client.put(route, token, "{\"url\":\"http://a:1\",\"url\":\"http://b:1\"}"));
        refused(400, "invalid_json", () -> client.put(route, token, "{\"url\":\"http://a:1\"} {}"));
        refused(400, "invalid_json", () -> client.post("/v1/tenants", ADMIN_TOKEN, "{\"nom\":\"x\"}"));
    }

    @Test
    void invalidNames() {
        String base = "/v1/routes/" + tenant + "/";
        refused(400, "invalid_name", () -> client.put(base + "Svc/prod/v1", token, urlBody("http://a:1")));
        refused(400, "invalid_name", () -> client.put(base + "svc/prod/" + "v".repeat(64), token, urlBody("http://a:1")));
        refused(400, "invalid_name", () -> client.put(base + "sv%C3%A9/prod/v1", token, urlBody("http://a:1")));
        refused(400, "invalid_name", () -> client.put(base + "svc/../v1", token, urlBody("http://a:1")));
        refused(400, "invalid_name", () -> client.put(base + "svc/prod/v%201", token, urlBody("http://a:1")));
        refused(400, "invalid_name", () -> client.put(base + "-svc/prod/v1", token, urlBody("http://a:1")));
        refused(400, "invalid_name", () -> client.post("/v1/tenants", ADMIN_TOKEN, "{\"name\":\"Team A\"}"));
        refused(400, "invalid_name", () -> client.get("/v1/routes/" + tenant + "?service=Bad", token));
    }

    @Test
    void invalidUrls() {
        for (String url : new String[] {"", "ftp://files:21/", "http://user:pw@svc:1/", "http:///nohost",
                "http://svc:1/#frag", "http://svc:1/a b", "svc:8080", "http://exämple.com/", "http://svc:99999/"}) {
            refused(400, "invalid_url", () -> client.put(route, token, urlBody(url)));
        }
        refused(400, "invalid_url", () -> client.put(route, token, urlBody("http://svc/" + "a".repeat(2100))));
    }

    @Test
    void unknownThings() {
        refused(404, "route_not_found", () -> client.get("/v1/routes/" + tenant + "/svc/prod/v9", token));
        refused(404, "route_not_found", () -> client.post("/v1/routes/" + tenant + "/svc/prod/v9/activate", token, ""));
        refused(404, "route_not_found", () -> client.post("/v1/routes/" + tenant + "/svc/prod/v9/deactivate", token, ""));
        refused(404, "route_not_found", () -> client.get("/v1/routes/" + tenant + "/svc/prod/v9/history", token));
        refused(404, "tenant_not_found", () -> client.put("/v1/routes/" + TestControlApi.unique("ghost") + "/svc/prod/v1",
                ADMIN_TOKEN, urlBody("http://a:1")));
        refused(404, "not_found", () -> client.get("/v2/routes", token));
        refused(404, "not_found", () -> client.get(route + "/extra/segments", token));
    }

    @Test
    void wrongMethods() {
        refused(405, "method_not_allowed", () -> client.method("DELETE", route, token));
        refused(405, "method_not_allowed", () -> client.method("PATCH", route, token));
        refused(405, "method_not_allowed", () -> client.get(route + "/deactivate", token));
        refused(405, "method_not_allowed", () -> client.get("/v1/tenants", ADMIN_TOKEN));
        assertThat(client.method("DELETE", route, token).header("Allow")).isEqualTo("GET, PUT");
    }

    @Test
    void wrongOrMissingTokens() {
        refused(401, "unauthorized", () -> client.put(route, null, urlBody("http://a:1")));
        refused(401, "unauthorized", () -> client.put(route, "tm_not-a-real-token", urlBody("http://a:1")));
        refused(401, "unauthorized", () -> client.get(route, ""));
        assertThat(client.get(route, null).header("WWW-Authenticate")).isEqualTo("Bearer");
        refused(401, "unauthorized", () -> client.post("/v1/tenants", null, "{\"name\":\"x\"}"));
        refused(403, "forbidden", () -> client.put(route, otherToken, urlBody("http://a:1")));
        refused(403, "forbidden", () -> client.post("/v1/tenants", token, "{\"name\":\"sneaky\"}"));
        // access is checked before the input, so no tenant learns about another's input rules
        refused(403, "forbidden", () -> client.put(route, otherToken, "not json"));
    }

    /** Every endpoint, with another tenant's token: 403, the same answer whether the route exists or not. */
    @Test
    void noTenantReachesAnothersRoutes() {
        String missing = "/v1/routes/" + tenant + "/nothing/prod/v9";
        for (String path : List.of(route, missing)) {
            refused(403, "forbidden", () -> client.get(path, otherToken));
            refused(403, "forbidden", () -> client.put(path, otherToken, urlBody("http://evil:1")));
            refused(403, "forbidden", () -> client.post(path + "/deactivate", otherToken, ""));
            refused(403, "forbidden", () -> client.post(path + "/activate", otherToken, ""));
            refused(403, "forbidden", () -> client.get(path + "/history", otherToken));
        }
        refused(403, "forbidden", () -> client.get("/v1/routes/" + tenant, otherToken));
        refused(403, "forbidden", () -> client.get("/v1/routes/" + tenant + "?service=svc", otherToken));
        // the route is as its owner left it
        Response own = client.get(route, token);
        assertThat(own.status()).isEqualTo(200);
        assertThat(own.body().get("url").asText()).isEqualTo("http://svc:8080");
        assertThat(own.body().get("active").asBoolean()).isTrue();
    }

    /**
     * Guessing tokens: after 20 failed authentications an address gets 429 for the rest of the
     * minute, while other addresses go on; a valid token from it is still accepted (behind a load
     * balancer every operator shares one address). Sent from 127.0.0.2, which is
     * loopback too, so the other tests' address (127.0.0.1) keeps its allowance.
     */
    @Test
    void anAddressThatFailsToAuthenticateTooOftenIsRefused() throws Exception {
        PrintStream original = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8)); // slf4j-simple writes to the current System.err
        try {
            for (int i = 0; i < Authenticator.FAILURE_LIMIT; i++) {
                assertThat(rawStatusFrom127002(route, "tm_guess-" + i)).isEqualTo(401);
            }
            assertThat(rawStatusFrom127002(route, "tm_guess-more")).isEqualTo(429);
            assertThat(rawStatusFrom127002(route, token)).as("a valid token from the same address").isEqualTo(200);
            assertThat(rawStatusFrom127002(route, ADMIN_TOKEN)).as("the admin token from the same address").isEqualTo(200);
            assertThat(rawStatusFrom127002(route, "tm_guess-after")).as("still refused after valid ones").isEqualTo(429);
            assertThat(client.get(route, token).status()).as("another address").isEqualTo(200);
            assertThat(client.get(route, ADMIN_TOKEN).status()).isEqualTo(200);
        } finally {
            System.setErr(original);
        }
        // The lockout is logged with the address, and no token, tried or valid, ever is.
        String logged = log.toString(StandardCharsets.UTF_8);
        assertThat(logged).contains("failed authentications from 127.0.0.2");
        assertThat(logged).doesNotContain("tm_guess").doesNotContain(token).doesNotContain(ADMIN_TOKEN);
    }

    /** One GET from 127.0.0.2 on a connection of its own; returns the status code. */
    private static int rawStatusFrom127002(String path, String bearer) throws IOException {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress("127.0.0.2", 0));
            socket.connect(new InetSocketAddress("127.0.0.1", server.api.port()), 2000);
            socket.setSoTimeout(5000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer " + bearer
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String status = new String(socket.getInputStream().readNBytes(12), StandardCharsets.ISO_8859_1);
            return Integer.parseInt(status.substring(9, 12));
        }
    }

    @Test
    void conflictsAndPreconditions() {
        refused(409, "tenant_exists", () -> client.post("/v1/tenants", ADMIN_TOKEN, "{\"name\":\"" + tenant + "\"}"));
        refused(412, "precondition_failed", () -> client.put(route, token, urlBody("http://a:1"), "If-Match", "\"99\""));
        refused(400, "invalid_if_match", () -> client.put(route, token, urlBody("http://a:1"), "If-Match", "abc"));
        refused(400, "invalid_query", () -> client.get("/v1/routes/" + tenant + "?limit=0", token));
        refused(400, "invalid_query", () -> client.get("/v1/routes/" + tenant + "?active=maybe", token));
        refused(400, "invalid_cursor", () -> client.get("/v1/routes/" + tenant + "?cursor=***", token));
    }

    @Test
    void bodyOverSixtyFourKibGets413() throws IOException {
        String big = urlBody("http://svc/" + "a".repeat(70_000));
        refused(413, "body_too_large", () -> client.put(route, token, big));
        // the same in chunks, where the size is found only while reading
        String chunked = "PUT " + route + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
                + "\r\nTransfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(big.length()) + "\r\n" + big + "\r\n0\r\n\r\n";
        assertThat(raw(chunked)).startsWith("HTTP/1.1 413").contains("body_too_large");
        assertThat(TestControlApi.tableCounts()).isEqualTo(before);
    }

    @Test
    void malformedHttpGetsAJsonErrorNotACrash() throws IOException {
        assertThat(raw("THIS IS NOT HTTP\r\n\r\n")).startsWith("HTTP/1.1 400").contains("bad_request");
        assertThat(raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n"))
                .startsWith("HTTP/1.1 431").contains("headers_too_large");
        assertThat(raw("GET /" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n"))
                .startsWith("HTTP/1.1 414");
        assertThat(raw("PUT " + route + " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde"))
                .startsWith("HTTP/1.1 400");
        assertThat(TestControlApi.tableCounts()).isEqualTo(before);
        assertThat(client.get("/healthz", null).status()).isEqualTo(200);
    }

    /** Sends raw bytes and returns everything the server answers before it closes the connection. */
    private static String raw(String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", server.api.port())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.net.SocketException e) {
            return "connection reset: " + e.getMessage();
        }
    }
}
