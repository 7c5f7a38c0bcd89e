package dev.trafficmanager.controlapi;

import static dev.trafficmanager.controlapi.ApiClient.urlBody;
import static dev.trafficmanager.controlapi.TestControlApi.ADMIN_TOKEN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The control API's /metrics: responses by class, their latency, and the outbox's backlog and publishing. */
@ExtendWith(LocalStack.class)
class ApiMetricsTest {
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

    private static double value(String metrics, String name) {
        Matcher matcher = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(metrics);
        assertThat(matcher.find()).as("%s on /metrics:%n%s", name, metrics).isTrue();
        return Double.parseDouble(matcher.group(1));
    }

    private static String scrape() {
        ApiClient.Response response = client.get("/metrics", null);
        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Content-Type")).startsWith("text/plain");
        return response.raw().body();
    }

    @Test
    void countsResponsesByClassAndTheOutboxDrainingToKafka() {
        String before = scrape();
        double ok = value(before, "tm_api_requests_total{status_class=\"2xx\"}");
        double refused = value(before, "tm_api_requests_total{status_class=\"4xx\"}");
        double published = value(before, "tm_outbox_published_total");

        String tenant = TestControlApi.unique("meters");
        String token = client.createTenant(ADMIN_TOKEN, tenant);
        assertThat(client.put("/v1/routes/" + tenant + "/svc/prod/v1", token, urlBody("http://a:1")).status()).isEqualTo(201);
        assertThat(client.get("/v1/routes/" + tenant + "/svc/prod/v9", token).status()).isEqualTo(404);

        String after = scrape();
        assertThat(value(after, "tm_api_requests_total{status_class=\"2xx\"}")).isGreaterThanOrEqualTo(ok + 2);
        assertThat(value(after, "tm_api_requests_total{status_class=\"4xx\"}")).isEqualTo(refused + 1);
        assertThat(value(after, "tm_api_request_duration_seconds_count")).isGreaterThanOrEqualTo(3);
        assertThat(after).contains("tm_api_request_duration_seconds_bucket{le=");
        Poll.until(Duration.ofSeconds(30), "the route's event published and the backlog empty", () -> {
            String now = scrape();
            return value(now, "tm_outbox_published_total") >= published + 1 && value(now, "tm_outbox_backlog") == 0
                    && value(now, "tm_outbox_oldest_unpublished_seconds") == 0;
        });
        assertThat(value(scrape(), "tm_outbox_relay_failures_total")).isZero();
    }
}
