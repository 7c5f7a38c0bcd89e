package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.TestUpstream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy/monitoring: the alert rules pass {@code promtool check rules}, so do the dashboard's queries
 * (as recording rules), and every metric either uses is on a live sidecar's or control API's /metrics.
 */
@ExtendWith(LocalStack.class)
class MonitoringTest {
    private static final Path MONITORING = LocalStack.repoRoot().resolve("deploy/monitoring");
    private static final Pattern METRIC = Pattern.compile("\\b(?:tm|jvm|process|system)_[a-z0-9_]+\\b");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static String promtool(Path rules) throws IOException, InterruptedException {
        String binary = Files.isExecutable(Path.of("/usr/bin/promtool")) ? "/usr/bin/promtool" : "promtool";
        Process process = new ProcessBuilder(binary, "check", "rules", rules.toString()).redirectErrorStream(true).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("promtool ends").isTrue();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as("promtool check rules %s:%n%s", rules, output).isZero();
        return output;
    }

    /** Every PromQL expression of the dashboard's panels and variables. */
    private static List<String> dashboardQueries() throws IOException {
        List<String> queries = new ArrayList<>();
        collect(JSON.readTree(MONITORING.resolve("grafana-dashboard.json").toFile()), queries);
        return queries;
    }

    private static void collect(JsonNode node, List<String> queries) {
        if (node.isObject()) {
            node.fields().forEachRemaining(field -> {
                if (field.getKey().equals("expr") && field.getValue().isTextual()) {
                    queries.add(field.getValue().asText());
                } else if (field.getKey().equals("query") && field.getValue().isObject()) {
                    queries.add(field.getValue().path("query").asText()); // a variable's label_values(...)
                } else {
                    collect(field.getValue(), queries);
                }
            });
        } else if (node.isArray()) {
            node.forEach(item -> collect(item, queries));
        }
    }

    /** The rules' {@code expr} values (one line, or a block after {@code |}); the annotations' prose is not PromQL. */
    private static List<String> ruleExpressions() throws IOException {
        List<String> lines = Files.readAllLines(MONITORING.resolve("alerts.yml"));
        List<String> exprs = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (!line.strip().startsWith("expr:")) {
                continue;
            }
            String value = line.strip().substring("expr:".length()).strip();
            if (!value.startsWith("|") && !value.startsWith(">")) {
                exprs.add(value);
                continue;
            }
            int indent = line.indexOf("expr:");
            StringBuilder block = new StringBuilder();
            while (i + 1 < lines.size() && (lines.get(i + 1).isBlank()
                    || lines.get(i + 1).length() - lines.get(i + 1).stripLeading().length() > indent)) {
                block.append(lines.get(++i).strip()).append('\n');
            }
            exprs.add(block.toString());
        }
        return exprs;
    }

    private static Set<String> metrics(String text) {
        Set<String> names = new TreeSet<>();
        Matcher matcher = METRIC.matcher(text);
        while (matcher.find()) {
            names.add(matcher.group());
        }
        return names;
    }

    @Test
    void theRulesAndTheDashboardsQueriesAreValidPromql() throws Exception {
        assertThat(promtool(MONITORING.resolve("alerts.yml"))).contains("SUCCESS");

        List<String> queries = dashboardQueries();
        assertThat(queries).hasSizeGreaterThan(20);
        ArrayNode rules = JSON.createArrayNode();
        int n = 0;
        for (String query : queries) {
            if (query.startsWith("label_values(")) {
                continue; // Grafana's own function, not PromQL
            }
            String promql = query.replace("$__rate_interval", "5m").replace("$__interval", "1m")
                    .replaceAll("\\$\\{?[a-z_]+}?", ".*");
            rules.addObject().put("record", "dashboard:query_" + n++).put("expr", promql);
        }
        ObjectNode file = JSON.createObjectNode();
        file.putArray("groups").addObject().put("name", "dashboard").set("rules", rules);
        Path recording = Files.writeString(dir.resolve("dashboard-rules.yml"), file.toString()); // JSON is YAML
        assertThat(promtool(recording)).contains("SUCCESS: " + n + " rules found");
    }

    @Test
    void everyMetricTheDashboardAndTheRulesUseIsOnALiveMetricsPage() throws Exception {
        Set<String> used = new TreeSet<>();
        for (String expr : ruleExpressions()) {
            used.addAll(metrics(expr));
        }
        for (String query : dashboardQueries()) {
            used.addAll(metrics(query));
        }
        assertThat(ruleExpressions()).hasSizeGreaterThanOrEqualTo(15);
        assertThat(used).contains("tm_proxy_requests_total", "tm_kafka_lag", "tm_outbox_backlog", "tm_access_log_dropped_total",
                "tm_upstream_latency_seconds_bucket", "tm_api_request_duration_seconds_bucket");

        try (SidecarHarness harness = SidecarHarness.start(); TestUpstream upstream = TestUpstream.start("monitored")) {
            Sidecar sidecar = SidecarHarness.startReady(harness.sidecarEnv(dir.resolve("routes.l1")));
            try {
                String service = harness.newRoute(sidecar, upstream.url("/"));
                assertThat(harness.get(sidecar, "/", service, "v1").statusCode()).isEqualTo(200);
                assertThat(harness.get(sidecar, "/", "svc-missing", "v1").statusCode()).isEqualTo(404); // an error code's counter
                String live = page("http://127.0.0.1:" + sidecar.adminPort() + "/metrics", harness)
                        + page("http://127.0.0.1:" + harness.api.api.port() + "/metrics", harness);
                Set<String> served = new TreeSet<>();
                live.lines().filter(line -> !line.startsWith("#"))
                        .map(line -> line.split("[{ ]", 2)[0]).forEach(served::add);
                assertThat(served).as("the metrics the dashboard and the rules use").containsAll(used);
            } finally {
                sidecar.close();
            }
        }
    }

    private static String page(String url, SidecarHarness harness) {
        var response = harness.send(HttpRequest.newBuilder(URI.create(url)).build());
        assertThat(response.statusCode()).as(url).isEqualTo(200);
        return response.body();
    }
}
