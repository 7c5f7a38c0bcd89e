package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access log and trace context on a real sidecar: a line per request with every field, ids
 * created or passed through to the upstream, the sidecar's own errors carrying them, and the query
 * logged only when asked for.
 */
@ExtendWith(LocalStack.class)
class AccessLogEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static HttpServer upstream;
    private static final AtomicReference<Headers> received = new AtomicReference<>();
    private static Sidecar creating;
    private static Sidecar passing;
    private static Path creatingLog;
    private static Path passingLog;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        upstream.createContext("/", exchange -> {
            received.set(exchange.getRequestHeaders());
            exchange.getRequestBody().readAllBytes();
            byte[] body = "hello".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        upstream.start();
        creatingLog = dir.resolve("logs/creating.log");
        Map<String, String> env = harness.sidecarEnv(dir.resolve("creating.l1"));
        env.put("TM_ACCESS_LOG", creatingLog.toString());
        creating = SidecarHarness.startReady(env);
        passingLog = dir.resolve("passing.log");
        Map<String, String> passEnv = harness.sidecarEnv(dir.resolve("passing.l1"));
        passEnv.put("TM_ACCESS_LOG", passingLog.toString());
        passEnv.put("TM_ACCESS_LOG_QUERY", "on");
        passEnv.put("TM_TRACE_CONTEXT", "pass");
        passing = SidecarHarness.startReady(passEnv);
    }

    @AfterAll
    static void stop() throws Exception {
        passing.close();
        creating.close();
        upstream.stop(0);
        harness.close();
    }

    private static String upstreamUrl() {
        return "http://127.0.0.1:" + upstream.getAddress().getPort() + "/base";
    }

    private static HttpResponse<String> send(Sidecar sidecar, String method, String path, String service, String body,
                                             String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + path))
                .timeout(Duration.ofSeconds(20)).header("x-tm-service", service).header("x-tm-version", "v1")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return harness.send(request.build());
    }

    /** The log's line whose request_id is {@code requestId}, once the writer has written it. */
    private static JsonNode line(Path log, String field, String value) {
        return Poll.value(Duration.ofSeconds(10), "the access log line with " + field + " " + value, () -> {
            try {
                if (!Files.exists(log)) {
                    return null;
                }
                for (String text : Files.readAllLines(log)) {
                    JsonNode line = JSON.readTree(text);
                    if (value.equals(line.path(field).asText())) {
                        return line;
                    }
                }
                return null;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @Test
    void aRequestIsOneLineWithEveryFieldAndItsCreatedIdsReachTheUpstream() {
        String service = harness.newRoute(creating, upstreamUrl());
        HttpResponse<String> response = send(creating, "POST", "/pay?card=4111", service, "hello world");
        assertThat(response.statusCode()).isEqualTo(200);
        Headers seen = received.get();
        String requestId = seen.getFirst("x-request-id");
        assertThat(requestId).as("created for the application").matches("[0-9a-f-]{36}");
        String traceparent = seen.getFirst("traceparent");
        assertThat(traceparent).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");

        JsonNode line = line(creatingLog, "request_id", requestId);
        assertThat(Instant.parse(line.get("time").asText())).isBefore(Instant.now().plusSeconds(1));
        assertThat(line.get("route").asText()).isEqualTo(harness.key(service));
        assertThat(line.get("method").asText()).isEqualTo("POST");
        assertThat(line.get("path").asText()).as("no query unless TM_ACCESS_LOG_QUERY=on").isEqualTo("/pay");
        assertThat(line.get("protocol").asText()).isEqualTo("HTTP/1.1");
        assertThat(line.get("status").asInt()).isEqualTo(200);
        assertThat(line.get("error").isNull()).isTrue();
        assertThat(line.get("duration_ms").asDouble()).isPositive();
        assertThat(line.get("upstream").asText()).isEqualTo("http://127.0.0.1:" + upstream.getAddress().getPort());
        assertThat(line.get("bytes_in").asLong()).isEqualTo(11);
        assertThat(line.get("bytes_out").asLong()).isEqualTo(5);
        assertThat(line.get("tier").asText()).isIn("near", "l1");
        assertThat(line.get("retries").asInt()).isZero();
        assertThat(line.get("trace_id").asText()).isEqualTo(traceparent.substring(3, 35));
    }

    @Test
    void givenIdsPassUnchangedAndTheSidecarsOwnErrorsCarryThem() throws IOException {
        String service = harness.newRoute(creating, upstreamUrl());
        assertThat(send(creating, "GET", "/x", service, null, "traceparent", TRACEPARENT, "tracestate", "vendor=opaque",
                "x-request-id", "given-1").statusCode()).isEqualTo(200);
        Headers seen = received.get();
        assertThat(seen.getFirst("traceparent")).isEqualTo(TRACEPARENT);
        assertThat(seen.getFirst("tracestate")).isEqualTo("vendor=opaque");
        assertThat(seen.getFirst("x-request-id")).isEqualTo("given-1");
        assertThat(line(creatingLog, "request_id", "given-1").get("trace_id").asText()).isEqualTo("0af7651916cd43dd8448eb211c80319c");

        HttpResponse<String> missing = send(creating, "GET", "/x", "svc-none", null, "x-request-id", "given-2");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.headers().firstValue("x-request-id")).hasValue("given-2");
        String traceId = missing.headers().firstValue("x-trace-id").orElseThrow();
        assertThat(missing.body()).contains("\"error\":\"route_not_found\"", "\"traceId\":\"" + traceId + "\"");
        JsonNode refused = line(creatingLog, "request_id", "given-2");
        assertThat(refused.get("status").asInt()).isEqualTo(404);
        assertThat(refused.get("error").asText()).isEqualTo("route_not_found");
        assertThat(refused.get("route").asText()).isEqualTo(harness.tenant + "/svc-none/prod/v1");
        assertThat(refused.get("trace_id").asText()).isEqualTo(traceId);
        assertThat(refused.get("bytes_out").asLong()).isEqualTo(missing.body().getBytes(StandardCharsets.UTF_8).length);

        // Refused for its header count: its own id is read and echoed, none is added (that could have pushed it over).
        StringBuilder many = new StringBuilder("GET /x HTTP/1.1\r\nHost: a\r\nx-request-id: over-1\r\n");
        for (int i = 0; i < 100; i++) {
            many.append("x-filler-").append(i).append(": 1\r\n");
        }
        try (java.net.Socket raw = new java.net.Socket("127.0.0.1", creating.port())) {
            raw.setSoTimeout(10_000);
            raw.getOutputStream().write(many.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            StringBuilder answer = new StringBuilder();
            byte[] chunk = new byte[1024];
            while (answer.indexOf("}\n") < 0) { // the JSON body's end; the connection may stay open
                int n = raw.getInputStream().read(chunk);
                assertThat(n).as("the answer so far: %s", answer).isPositive();
                answer.append(new String(chunk, 0, n, StandardCharsets.US_ASCII));
            }
            assertThat(answer).startsWith("HTTP/1.1 431").contains("x-request-id: over-1").doesNotContain("x-trace-id");
        }
        JsonNode over = line(creatingLog, "request_id", "over-1");
        assertThat(over.get("error").asText()).isEqualTo("headers_too_large");
        assertThat(over.get("trace_id").isNull()).isTrue();

        HttpResponse<String> broken = send(creating, "GET", "/x", service, null, "traceparent", "00-zz", "x-request-id", "given-3");
        assertThat(broken.statusCode()).isEqualTo(200);
        assertThat(received.get().getFirst("traceparent")).as("a malformed traceparent starts a new trace")
                .matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
    }

    @Test
    void anUpgradeAndARefusedConnectAreLoggedOnceEach() throws Exception {
        try (WebSocketEcho echo = new WebSocketEcho()) {
            String service = harness.newRoute(creating, echo.url());
            java.net.http.WebSocket socket = harness.http().newWebSocketBuilder().header("x-tm-service", service)
                    .header("x-tm-version", "v1").header("x-request-id", "ws-1")
                    .buildAsync(URI.create("ws://127.0.0.1:" + creating.port() + "/ws"), new java.net.http.WebSocket.Listener() { })
                    .get(10, java.util.concurrent.TimeUnit.SECONDS);
            socket.sendClose(java.net.http.WebSocket.NORMAL_CLOSURE, "done").get(10, java.util.concurrent.TimeUnit.SECONDS);
            JsonNode upgrade = line(creatingLog, "request_id", "ws-1");
            assertThat(upgrade.get("status").asInt()).isEqualTo(101);
            assertThat(upgrade.get("route").asText()).isEqualTo(harness.key(service));
        }
        try (java.net.Socket raw = new java.net.Socket("127.0.0.1", creating.port())) {
            raw.getOutputStream().write(("CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nx-request-id: connect-1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String head = new String(raw.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertThat(head).isEqualTo("HTTP/1.1 403");
        }
        JsonNode connect = line(creatingLog, "request_id", "connect-1");
        assertThat(connect.get("method").asText()).isEqualTo("CONNECT");
        assertThat(connect.get("error").asText()).isEqualTo("outbound_forbidden");
        // Lines are written in the order requests end: once a later request's line is there, any second line is too.
        String service = harness.newRoute(creating, upstreamUrl());
        assertThat(send(creating, "GET", "/after", service, null, "x-request-id", "after-1").statusCode()).isEqualTo(200);
        line(creatingLog, "request_id", "after-1");
        assertThat(Files.readAllLines(creatingLog).stream().filter(l -> l.contains("\"ws-1\"")).count()).isEqualTo(1);
        assertThat(Files.readAllLines(creatingLog).stream().filter(l -> l.contains("\"connect-1\"")).count()).isEqualTo(1);
    }

    @Test
    void passModeCreatesNothingAndTheQueryIsLoggedWhenAskedFor() {
        String service = harness.newRoute(passing, upstreamUrl());
        assertThat(send(passing, "GET", "/q?page=2", service, null).statusCode()).isEqualTo(200);
        Headers seen = received.get();
        assertThat(seen.containsKey("x-request-id")).isFalse();
        assertThat(seen.containsKey("traceparent")).isFalse();
        JsonNode line = line(passingLog, "path", "/q?page=2");
        assertThat(line.get("request_id").isNull()).isTrue();
        assertThat(line.get("trace_id").isNull()).isTrue();

        assertThat(send(passing, "GET", "/q", service, null, "traceparent", TRACEPARENT, "x-request-id", "given-4")
                .statusCode()).isEqualTo(200);
        assertThat(received.get().getFirst("traceparent")).isEqualTo(TRACEPARENT);
        assertThat(line(passingLog, "request_id", "given-4").get("trace_id").asText()).isEqualTo("0af7651916cd43dd8448eb211c80319c");
        double dropped = passing.metrics().registry().get("tm_access_log_dropped").counter().count();
        assertThat(dropped).isZero();
    }
}
