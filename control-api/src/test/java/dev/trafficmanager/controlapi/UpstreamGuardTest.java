package dev.trafficmanager.controlapi;

import static dev.trafficmanager.controlapi.ApiClient.urlBody;
import static dev.trafficmanager.controlapi.TestControlApi.ADMIN_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.controlapi.ApiClient.Response;
import dev.trafficmanager.testing.LocalStack;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** With TM_API_UPSTREAM_GUARD=on, no route may point the sidecars at loopback, link-local or metadata hosts. */
@ExtendWith(LocalStack.class)
class UpstreamGuardTest {

    @Test
    void refusesLoopbackLinkLocalAndMetadataHostsUnlessAllowed() throws Exception {
        try (TestControlApi server = TestControlApi.start(Map.of("TM_API_UPSTREAM_GUARD", "on",
                "TM_API_UPSTREAM_ALLOW", "127.0.0.9, allowed.example"))) {
            ApiClient client = server.client;
            String tenant = TestControlApi.unique("guarded");
            String token = client.createTenant(ADMIN_TOKEN, tenant);
            String route = "/v1/routes/" + tenant + "/svc/prod/v1";
            for (String url : List.of("http://127.0.0.1:8080/", "http://localhost:8080/", "http://169.254.169.254/latest/",
                    "http://[::1]:8080/", "http://[fd00:ec2::254]/", "http://0.0.0.0:8080/", "http://metadata.google.internal/")) {
                Response refused = client.put(route, token, urlBody(url));
                assertThat(refused.status()).as(url).isEqualTo(400);
                assertThat(refused.error()).as(url).isEqualTo("invalid_url");
                assertThat(refused.body().get("message").asText()).as(url).contains("TM_API_UPSTREAM_ALLOW");
            }
            assertThat(client.get(route, token).status()).as("nothing was written").isEqualTo(404);
            // allowed hosts, private addresses (where pods live) and names that do not resolve here pass
            for (String url : List.of("http://127.0.0.9:8080/", "http://allowed.example/", "http://10.1.2.3:8080/",
                    "http://checkout.shop.svc.cluster.invalid:8080/")) {
                assertThat(client.put(route, token, urlBody(url)).status()).as(url).isIn(200, 201);
            }
        }
    }

    @Test
    void isOffByDefault() throws Exception {
        try (TestControlApi server = TestControlApi.start()) {
            String tenant = TestControlApi.unique("open");
            String token = server.client.createTenant(ADMIN_TOKEN, tenant);
            assertThat(server.client.put("/v1/routes/" + tenant + "/svc/prod/v1", token, urlBody("http://127.0.0.1:8080/")).status())
                    .isEqualTo(201);
        }
    }
}
