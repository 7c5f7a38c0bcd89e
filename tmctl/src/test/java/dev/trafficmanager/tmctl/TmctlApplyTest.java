package dev.trafficmanager.tmctl;

import static dev.trafficmanager.controlapi.TestControlApi.ADMIN_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.trafficmanager.controlapi.ApiClient;
import dev.trafficmanager.controlapi.TestControlApi;
import dev.trafficmanager.testing.LocalStack;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Routes as code against a real control API: tmctl apply, diff, --prune, export, conflicts and bad files, as processes. */
@ExtendWith(LocalStack.class)
class TmctlApplyTest {
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

    private static Map<String, String> as(String token) {
        return Map.of("TM_API", "http://127.0.0.1:" + server.api.port(), "TM_TOKEN", token);
    }

    private static String file(String tenant, String v1Url, boolean withSplit, boolean withV3) {
        return "tenant: " + tenant + "\n"
                + "routes:\n"
                + "  - service: pay\n    env: prod\n    version: v1\n    url: " + v1Url + "\n"
                + "  - service: pay\n    env: prod\n    version: v2\n    protocol: h2\n"
                + "    endpoints:\n      - url: http://pay-a.internal:8080/api\n        weight: 3\n"
                + "      - url: http://pay-b.internal:8080/api\n"
                + "    timeoutMs: 800\n    retries: {attempts: 2, on: [connect-failure, gateway-error]}\n"
                + "  - service: legacy\n    env: prod\n    version: v1\n    url: http://legacy.internal/\n    active: false\n"
                + (withV3 ? "  - service: pay\n    env: prod\n    version: v3\n    url: http://pay-v3.internal/\n" : "")
                + (withSplit ? "splits:\n  - service: pay\n    env: prod\n    weights: {v1: 90, v2: 10}\n    stickyHeader: x-user-id\n" : "");
    }

    private Path write(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    private static JsonNode route(String tenant, String token, String rest) {
        return client.get("/v1/routes/" + tenant + "/" + rest, token).body();
    }

    @Test
    void applyMakesTheTenantWhatTheFileSaysThenChangesNothingAndExportAppliesBackUnchanged() throws IOException {
        String tenant = TestControlApi.unique("code");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        Path routes = write("routes.yaml", file(tenant, "http://pay-v1.internal/", true, true));

        TmctlProcess.Run diff = TmctlProcess.run(as(token), null, "diff", "-f", routes.toString()).expect(0);
        assertThat(diff.out()).contains("+ create route " + tenant + "/pay/prod/v2  (line 7)", "timeoutMs: 800",
                "+ create split " + tenant + "/pay/prod", "- deactivate route " + tenant + "/legacy/prod/v1",
                "5 create, 0 update, 0 activate, 1 deactivate, 0 delete, 0 unchanged");
        assertThat(TestControlApi.count("SELECT count(*) FROM endpoints e JOIN environments v ON v.id = e.environment_id"
                + " JOIN services s ON s.id = v.service_id JOIN tenants t ON t.id = s.tenant_id WHERE t.name = ?", tenant))
                .as("diff writes nothing").isZero();

        TmctlProcess.Run applied = TmctlProcess.run(as(token), null, "apply", "-f", routes.toString()).expect(0);
        assertThat(applied.out()).contains("applied 6 change(s)");
        JsonNode v2 = route(tenant, token, "pay/prod/v2");
        assertThat(v2.get("protocol").asText()).isEqualTo("h2");
        assertThat(v2.get("endpoints").get(0).get("weight").asInt()).isEqualTo(3);
        assertThat(v2.get("timeoutMs").asInt()).isEqualTo(800);
        assertThat(v2.get("retries").get("on").toString()).isEqualTo("[\"connect-failure\",\"gateway-error\"]");
        assertThat(route(tenant, token, "legacy/prod/v1").get("active").asBoolean()).isFalse();
        JsonNode split = client.get("/v1/splits/" + tenant + "/pay/prod", token).body();
        assertThat(split.get("weights").get("v2").asInt()).isEqualTo(10);
        long v1Revision = route(tenant, token, "pay/prod/v1").get("revision").asLong();

        TmctlProcess.Run again = TmctlProcess.run(as(token), null, "apply", "-f", routes.toString()).expect(0);
        assertThat(again.out()).contains("0 create, 0 update, 0 activate, 0 deactivate, 0 delete, 5 unchanged",
                "nothing to change");
        assertThat(route(tenant, token, "pay/prod/v1").get("revision").asLong()).as("a second apply bumps nothing")
                .isEqualTo(v1Revision);

        Path exported = dir.resolve("export.yaml");
        TmctlProcess.run(as(token), null, "export", "--tenant", tenant, "-f", exported.toString()).expect(0);
        assertThat(Files.readString(exported)).contains("tenant: " + tenant, "active: false", "stickyHeader: x-user-id")
                .doesNotContain("revision");
        TmctlProcess.Run roundTrip = TmctlProcess.run(as(token), null, "apply", "-f", exported.toString()).expect(0);
        assertThat(roundTrip.out()).contains("5 unchanged", "nothing to change");
        TmctlProcess.Run stdout = TmctlProcess.run(as(token), null, "export", "--tenant", tenant).expect(0);
        assertThat(TmctlProcess.run(as(token), stdout.out(), "diff", "-f", "-").expect(0).out())
                .contains("0 create, 0 update, 0 activate, 0 deactivate, 0 delete, 5 unchanged");
    }

    @Test
    void aChangedFileIsPlannedFieldByFieldAndPruneDeactivatesWhatItNoLongerLists() throws IOException {
        String tenant = TestControlApi.unique("prune");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        TmctlProcess.run(as(token), null, "apply", "-f", write("a.yaml", file(tenant, "http://pay-v1.internal/", true, true))
                .toString()).expect(0);
        Path changed = write("b.yaml", file(tenant, "http://pay-v1-new.internal/", false, false));

        TmctlProcess.Run kept = TmctlProcess.run(as(token), null, "apply", "-f", changed.toString()).expect(0);
        assertThat(kept.out()).contains("~ update route " + tenant + "/pay/prod/v1",
                "url: http://pay-v1.internal/ -> http://pay-v1-new.internal/", "applied 1 change(s)",
                "2 active route(s) or split(s) of tenant " + tenant + " are not in the file and are left as they are");
        assertThat(route(tenant, token, "pay/prod/v3").get("active").asBoolean()).as("without --prune").isTrue();

        TmctlProcess.Run dry = TmctlProcess.run(as(token), null, "apply", "-f", changed.toString(), "--prune", "--dry-run").expect(0);
        assertThat(dry.out()).contains("- deactivate route " + tenant + "/pay/prod/v3", "not in the file (--prune)",
                "- delete split " + tenant + "/pay/prod", "dry run: nothing changed");
        assertThat(route(tenant, token, "pay/prod/v3").get("active").asBoolean()).isTrue();

        TmctlProcess.Run pruned = TmctlProcess.run(as(token), null, "apply", "-f", changed.toString(), "--prune").expect(0);
        assertThat(pruned.out()).contains("applied 2 change(s)");
        assertThat(pruned.out().indexOf("done: delete split")).as("the split goes before the routes it may point at")
                .isLessThan(pruned.out().indexOf("done: deactivate route"));
        assertThat(route(tenant, token, "pay/prod/v3").get("active").asBoolean()).isFalse();
        assertThat(client.get("/v1/splits/" + tenant + "/pay/prod", token).body().get("active").asBoolean()).isFalse();

        Path back = write("c.yaml", file(tenant, "http://pay-v1-new.internal/", true, true));
        TmctlProcess.Run restored = TmctlProcess.run(as(token), null, "apply", "-f", back.toString()).expect(0);
        assertThat(restored.out()).contains("^ activate route " + tenant + "/pay/prod/v3", "+ create split " + tenant
                + "/pay/prod", "(deleted before, at revision 2)");
        assertThat(route(tenant, token, "pay/prod/v3").get("active").asBoolean()).isTrue();
    }

    @Test
    void aChangeMadeSinceThePlanIsAConflictAndIsNotOverwritten() throws IOException {
        String tenant = TestControlApi.unique("race");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        Path routes = write("routes.yaml", file(tenant, "http://pay-v1.internal/", false, false));
        TmctlProcess.run(as(token), null, "apply", "-f", routes.toString()).expect(0);

        Path newer = write("newer.yaml", file(tenant, "http://pay-v1-mine.internal/", false, true));
        Path plan = dir.resolve("plan.json");
        TmctlProcess.run(as(token), null, "diff", "-f", newer.toString(), "--out", plan.toString()).expect(0);
        assertThat(client.put("/v1/routes/" + tenant + "/pay/prod/v1", token, ApiClient.urlBody("http://theirs.internal/"))
                .status()).isEqualTo(200);

        TmctlProcess.Run conflict = TmctlProcess.run(as(token), null, "apply", "--plan", plan.toString()).expect(2);
        assertThat(conflict.err()).contains("conflict: 412 precondition_failed", "is at revision 2",
                "applied 0 of 2 change(s) before it");
        assertThat(route(tenant, token, "pay/prod/v1").get("url").asText()).as("theirs stays").isEqualTo("http://theirs.internal/");
        assertThat(client.get("/v1/routes/" + tenant + "/pay/prod/v3", token).status()).as("nothing after the conflict")
                .isEqualTo(404);

        // A route the plan creates, created by someone else first: If-None-Match refuses to overwrite it.
        Path create = dir.resolve("create.json");
        TmctlProcess.run(as(token), null, "diff", "-f", write("v3.yaml", file(tenant, "http://theirs.internal/", false, true))
                .toString(), "--out", create.toString()).expect(0);
        assertThat(client.put("/v1/routes/" + tenant + "/pay/prod/v3", token, ApiClient.urlBody("http://v3-theirs.internal/"))
                .status()).isEqualTo(201);
        TmctlProcess.Run created = TmctlProcess.run(as(token), null, "apply", "--plan", create.toString()).expect(2);
        assertThat(created.err()).contains("If-None-Match: * but route " + tenant + "/pay/prod/v3 exists");
        assertThat(route(tenant, token, "pay/prod/v3").get("url").asText()).isEqualTo("http://v3-theirs.internal/");

        // A saved plan applies only to the API it was made against.
        TmctlProcess.Run elsewhere = TmctlProcess.run(Map.of("TM_API", "http://localhost:" + server.api.port(), "TM_TOKEN", token),
                null, "apply", "--plan", plan.toString()).expect(1);
        assertThat(elsewhere.err()).contains("a plan made against http://127.0.0.1:" + server.api.port() + ", not http://localhost:");

        // The same file planned afresh applies.
        TmctlProcess.run(as(token), null, "apply", "-f", newer.toString()).expect(0);
        assertThat(route(tenant, token, "pay/prod/v1").get("url").asText()).isEqualTo("http://pay-v1-mine.internal/");
    }

    @Test
    void namesThatYamlReadsAsNumbersStayNamesAndExportBackUnchanged() throws IOException {
        String tenant = TestControlApi.unique("digits");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        Path routes = write("digits.yaml", "tenant: " + tenant + "\nroutes:\n"
                + "  - {service: 2024, env: 1.0, version: 2, url: http://a.internal/}\n"
                + "  - {service: 2024, env: 1.0, version: 007, url: http://b.internal/, active: false}\n"
                + "  - {service: 2024, env: 1.0, version: 0x1f, url: http://c.internal/}\n");
        TmctlProcess.run(as(token), null, "apply", "-f", routes.toString()).expect(0);
        assertThat(route(tenant, token, "2024/1.0/2").get("url").asText()).isEqualTo("http://a.internal/");
        assertThat(route(tenant, token, "2024/1.0/007").get("active").asBoolean()).isFalse();
        String exported = TmctlProcess.run(as(token), null, "export", "--tenant", tenant).expect(0).out();
        assertThat(exported).contains("version: \"2\"", "env: \"1.0\"", "version: \"007\"", "version: \"0x1f\"");
        assertThat(route(tenant, token, "2024/1.0/0x1f").get("url").asText()).isEqualTo("http://c.internal/");
        assertThat(TmctlProcess.run(as(token), exported, "apply", "-f", "-").expect(0).out()).contains("3 unchanged", "nothing to change");
    }

    @Test
    void aBadFileNamesEachProblemsLineAndNothingIsWritten() throws IOException {
        String tenant = TestControlApi.unique("bad");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        String bad = "tenant: " + tenant + "\n"
                + "routes:\n"
                + "  - service: pay\n"            // 3
                + "    env: Prod\n"               // 4: invalid name
                + "    version: v1\n"
                + "    url: ftp://pay/\n"         // 6: invalid URL
                + "  - service: pay\n"            // 7
                + "    env: prod\n"
                + "    version: v2\n"
                + "    endpoints:\n"              // 10
                + "      - url: http://a/\n"      // 11
                + "        weight: 0\n"           // 12: invalid weight
                + "    colour: blue\n"            // 13: unknown field
                + "  - service: pay\n"            // 14
                + "    env: prod\n"
                + "    version: v2\n"             // duplicate of line 7
                + "    url: http://b/\n"
                + "splits:\n"
                + "  - service: pay\n"            // 19
                + "    env: prod\n"
                + "    weights: {v1: 0}\n";       // 21: all zero
        TmctlProcess.Run run = TmctlProcess.run(as(token), null, "apply", "-f", write("bad.yaml", bad).toString()).expect(1);
        String name = dir.resolve("bad.yaml").toString();
        assertThat(run.err()).contains("6 problem(s) in " + name + ", nothing applied",
                name + ":4: env: \"Prod\"", name + ":6: url: \"ftp://pay/\"", name + ":11: endpoint http://a/: weight 0",
                name + ":13: a route: unknown field \"colour\"", name + ":14: route " + tenant + "/pay/prod/v2 is listed twice (first on line 7)",
                name + ":21: weights: all zero");
        assertThat(client.get("/v1/routes/" + tenant, token).body().get("items")).as("nothing written").isEmpty();

        assertThat(TmctlProcess.run(as(token), "tenant: " + tenant + "\nroutes:\n  - service: a\n    service: b\n", "diff", "-f", "-")
                .expect(1).err()).contains("<stdin>:4: not valid YAML: Duplicate field 'service'");
        assertThat(TmctlProcess.run(as(token), "tenant: " + tenant + "\nroutes: [\n", "apply", "-f", "-").expect(1).err())
                .contains("<stdin>:2: not valid YAML");
        assertThat(TmctlProcess.run(as(token), "routes: []\nextra: 1\n", "apply", "-f", "-").expect(1).err())
                .contains("<stdin>:1: tenant: missing", "<stdin>:2: the file: unknown field \"extra\"");
        assertThat(TmctlProcess.run(as(token), null, "apply", "-f", dir.resolve("missing.yaml").toString()).expect(1).err())
                .contains("missing.yaml: cannot read it");
        assertThat(TmctlProcess.run(as(token), null, "apply").expect(1).err()).contains("error: Missing required argument");
        assertThat(client.get("/v1/routes/" + tenant, token).body().get("items")).isEmpty();
    }
}
