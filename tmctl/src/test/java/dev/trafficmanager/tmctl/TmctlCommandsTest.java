package dev.trafficmanager.tmctl;

import static dev.trafficmanager.controlapi.TestControlApi.ADMIN_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.sun.net.httpserver.HttpServer;
import dev.trafficmanager.controlapi.ApiClient;
import dev.trafficmanager.controlapi.TestControlApi;
import dev.trafficmanager.testing.LocalStack;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** tmctl's reading commands, tenants, tokens and errors against a real control API, and resolve against an admin port. */
@ExtendWith(LocalStack.class)
class TmctlCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestControlApi server;
    private static ApiClient client;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws InterruptedException {
        server = TestControlApi.start();
        client = server.client;
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String api() {
        return "http://127.0.0.1:" + server.api.port();
    }

    @Test
    void tenantsRoutesSplitsAndHistoryInEachFormat() throws IOException {
        String tenant = TestControlApi.unique("cli");
        TmctlProcess.Run created = TmctlProcess.run(Map.of("TM_API", api(), "TM_TOKEN", ADMIN_TOKEN), null,
                "tenants", "create", tenant, "-o", "json").expect(0);
        String token = JSON.readTree(created.out()).get("token").asText();
        assertThat(token).isNotBlank();
        Path tokenFile = Files.writeString(dir.resolve("token"), token + "\n");
        assertThat(client.put("/v1/routes/" + tenant + "/pay/prod/v1", token, ApiClient.urlBody("http://pay-v1.internal/"))
                .status()).isEqualTo(201);
        assertThat(client.put("/v1/routes/" + tenant + "/pay/prod/v1", token, ApiClient.urlBody("http://pay-v1b.internal/"))
                .status()).isEqualTo(200);
        assertThat(client.put("/v1/routes/" + tenant + "/web/test/v1", token, ApiClient.urlBody("http://web.internal/"))
                .status()).isEqualTo(201);
        assertThat(client.put("/v1/splits/" + tenant + "/pay/prod", token, "{\"weights\":{\"v1\":100}}").status()).isEqualTo(201);

        // --api and --token-file instead of the environment
        Map<String, String> none = Map.of();
        TmctlProcess.Run table = TmctlProcess.run(none, null, "get", "routes", "--tenant", tenant, "--api", api(),
                "--token-file", tokenFile.toString()).expect(0);
        assertThat(table.out().lines().toList()).hasSize(3);
        assertThat(table.out()).startsWith("ROUTE").contains(tenant + "/pay/prod/v1", "http://pay-v1b.internal/", tenant + "/web/test/v1");

        Map<String, String> env = Map.of("TM_API", api(), "TM_TOKEN", token, "TM_TENANT", tenant);
        JsonNode json = JSON.readTree(TmctlProcess.run(env, null, "get", "routes", "--env", "prod", "-o", "json").expect(0).out());
        assertThat(json).hasSize(1);
        assertThat(json.get(0).get("revision").asLong()).isEqualTo(2);
        JsonNode yaml = new YAMLMapper().readTree(TmctlProcess.run(env, null, "get", "routes", "--service", "web", "-o", "yaml")
                .expect(0).out());
        assertThat(yaml.get(0).get("url").asText()).isEqualTo("http://web.internal/");

        assertThat(TmctlProcess.run(env, null, "get", "route", tenant + "/pay/prod/v1", "-o", "json").expect(0).out())
                .contains("\"url\" : \"http://pay-v1b.internal/\"");
        assertThat(TmctlProcess.run(env, null, "get", "splits").expect(0).out()).contains(tenant + "/pay/prod", "{\"v1\":100}");
        TmctlProcess.Run history = TmctlProcess.run(env, null, "history", tenant + "/pay/prod/v1").expect(0);
        assertThat(history.out().lines().skip(1).map(line -> line.split("\\s+")[1]).toList()).containsExactly("created", "updated");
        assertThat(TmctlProcess.run(env, null, "history", tenant + "/pay/prod").expect(0).out()).contains("created", "\"v1\":100");
    }

    @Test
    void refusalsAreClearAndExitOne() {
        String tenant = TestControlApi.unique("deny");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        String other = client.createTenant(ADMIN_TOKEN, TestControlApi.unique("other"));

        assertThat(TmctlProcess.run(Map.of("TM_API", api(), "TM_TOKEN", "wrong"), null, "get", "routes", "--tenant", tenant)
                .expect(1).err()).contains("error: 401 unauthorized");
        assertThat(TmctlProcess.run(Map.of("TM_API", api(), "TM_TOKEN", other), null, "get", "routes", "--tenant", tenant)
                .expect(1).err()).contains("error: 403 forbidden");
        assertThat(TmctlProcess.run(Map.of("TM_API", api(), "TM_TOKEN", token), null, "tenants", "create", "x" + tenant)
                .expect(1).err()).contains("error: 403 forbidden");
        assertThat(TmctlProcess.run(Map.of("TM_API", api(), "TM_TOKEN", token), null, "get", "route", tenant + "/pay/prod/v9")
                .expect(1).err()).contains("error: 404 route_not_found");
        assertThat(TmctlProcess.run(Map.of("TM_API", api(), "TM_TOKEN", token), null, "get", "route", "a/b")
                .expect(1).err()).contains("route key: \"a/b\" (expected: tenant/service/env/version)");
        assertThat(TmctlProcess.run(Map.of("TM_API", api(), "TM_TOKEN", token), null, "get", "routes")
                .expect(1).err()).contains("--tenant is needed (or TM_TENANT)");
        assertThat(TmctlProcess.run(Map.of("TM_API", "http://127.0.0.1:1", "TM_TOKEN", token), null, "get", "routes", "--tenant", tenant)
                .expect(1).err()).contains("cannot reach the control API at http://127.0.0.1:1");
        assertThat(TmctlProcess.run(Map.of(), null, "get", "routes", "-o", "xml").expect(1).err())
                .contains("error: Invalid value for option '--output'");
        assertThat(TmctlProcess.run(Map.of(), null, "bogus").expect(1).err()).contains("error: Unmatched argument");
    }

    @Test
    void resolveAsksTheSidecarsAdminPort() throws IOException {
        AtomicReference<String> asked = new AtomicReference<>();
        HttpServer admin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        admin.createContext("/admin/resolve", exchange -> {
            asked.set(exchange.getRequestURI().getRawQuery());
            byte[] body = "{\"tier\":\"l1\",\"stale\":false,\"entry\":{\"url\":\"http://pay-v1.internal/\"}}"
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        admin.start();
        try {
            String sidecar = "http://127.0.0.1:" + admin.getAddress().getPort();
            TmctlProcess.Run run = TmctlProcess.run(Map.of(), null, "resolve", "--sidecar", sidecar, "--service", "pay",
                    "--env", "prod", "--version", "v1", "-o", "yaml").expect(0);
            assertThat(asked.get()).isEqualTo("service=pay&env=prod&version=v1");
            assertThat(run.out()).contains("tier: l1", "url: http://pay-v1.internal/");
            TmctlProcess.run(Map.of("TM_SIDECAR_ADMIN", sidecar), null, "resolve", "--service", "pay", "--split").expect(0);
            assertThat(asked.get()).isEqualTo("service=pay&split");
            assertThat(TmctlProcess.run(Map.of(), null, "resolve", "--sidecar", sidecar, "--service", "pay", "--split",
                    "--version", "v1").expect(1).err()).contains("mutually exclusive");
        } finally {
            admin.stop(0);
        }
    }
}
