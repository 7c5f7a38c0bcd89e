package dev.trafficmanager.proxy;

import static dev.trafficmanager.proxy.RawHttp.readLine;
import static dev.trafficmanager.proxy.RawHttp.readResponse;
import static dev.trafficmanager.proxy.RawHttp.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/1.1 details of the proxy, on raw sockets: framing, 100-continue, HEAD, 204/304, headers, reuse, retry. */
@ExtendWith(LocalStack.class)
class ProxyHttpTest {
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream upstream;
    private static Sidecar sidecar;
    private static final int BODY_LIMIT = 4 << 20;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        upstream = TestUpstream.start("a");
        Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_PROXY_MAX_BODY_BYTES", String.valueOf(BODY_LIMIT));
        sidecar = SidecarHarness.startReady(env);
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        upstream.close();
        harness.close();
    }

    private static String route(String url) {
        return harness.newRoute(sidecar, url);
    }

    /** A request head through the sidecar to {@code service} v1, without the blank line that ends it. */
    private static String head(String method, String path, String service) {
        return method + " " + path + " HTTP/1.1\r\nHost: app\r\nx-tm-service: " + service + "\r\nx-tm-version: v1\r\n";
    }

    private static Socket connect() throws IOException {
        return RawHttp.connect(sidecar);
    }

    private static String sha256(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.ISO_8859_1)));
    }

    @Test
    void aChunkedRequestBodyArrivesWhole() throws Exception {
        String service = route(upstream.url("/"));
        try (Socket socket = connect()) {
            send(socket, head("POST", "/sha256", service)
                    + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n, wide\r\n7\r\n world!\r\n0\r\n\r\n");
            String response = readResponse(socket.getInputStream(), false);
            assertThat(response).startsWith("HTTP/1.1 200").contains(sha256("hello, wide world!") + " 18");
        }
    }

    @Test
    void expectContinueIsAnsweredByTheUpstreamBeforeTheBodyIsSent() throws Exception {
        String service = route(upstream.url("/"));
        try (Socket socket = connect()) {
            send(socket, head("POST", "/sha256", service)
                    + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
            String interim = ScriptedUpstream.readHead(socket.getInputStream());
            assertThat(interim).startsWith("HTTP/1.1 100");
            send(socket, "hello");
            assertThat(readResponse(socket.getInputStream(), false)).startsWith("HTTP/1.1 200").contains(sha256("hello") + " 5");
        }
    }

    @Test
    void headGetsTheHeadersOnlyAndTheConnectionStaysUsable() throws Exception {
        String service = route(upstream.url("/"));
        try (Socket socket = connect()) {
            send(socket, head("HEAD", "/", service) + "\r\n");
            String head = readResponse(socket.getInputStream(), true);
            assertThat(head).startsWith("HTTP/1.1 200").containsIgnoringCase("x-upstream: a");
            send(socket, head("GET", "/", service) + "\r\n");
            assertThat(readResponse(socket.getInputStream(), false)).startsWith("HTTP/1.1 200").endsWith("a GET /\n");
        }
    }

    @Test
    void noContentAndNotModifiedPassWithoutBodiesOnOneConnection() throws Exception {
        try (ScriptedUpstream scripted = new ScriptedUpstream((i, head) -> head.startsWith("GET /204")
                ? "HTTP/1.1 204 No Content\r\nx-kind: 204\r\n\r\n"
                : "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 42\r\n\r\n")) {
            String service = route(scripted.url("/"));
            try (Socket socket = connect()) {
                send(socket, head("GET", "/204", service) + "\r\n" + head("GET", "/304", service) + "\r\n"); // pipelined
                assertThat(readResponse(socket.getInputStream(), true)).startsWith("HTTP/1.1 204").contains("x-kind: 204");
                assertThat(readResponse(socket.getInputStream(), true)).startsWith("HTTP/1.1 304").contains("\"v1\"");
                send(socket, head("GET", "/204", service) + "\r\n");
                assertThat(readResponse(socket.getInputStream(), true)).startsWith("HTTP/1.1 204");
            }
        }
    }

    @Test
    void hopByHopHeadersAreRemovedAndForwardedHeadersAdded() throws Exception {
        try (ScriptedUpstream scripted = new ScriptedUpstream((i, head) -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                + "Connection: x-internal\r\nx-internal: secret\r\nKeep-Alive: timeout=5\r\nx-kept: yes\r\n\r\nok")) {
            String service = route(scripted.url("/base"));
            scripted.requestHeads.clear();
            try (Socket socket = connect()) {
                send(socket, "GET /p?q=1 HTTP/1.1\r\nHost: app.local\r\nx-tm-service: " + service + "\r\nx-tm-version: v1\r\n"
                        + "Connection: keep-alive, x-drop-me\r\nx-drop-me: 1\r\nKeep-Alive: timeout=9\r\n"
                        + "Proxy-Authorization: Basic Zm9v\r\nTE: trailers\r\nx-forwarded-for: 10.0.0.7\r\nx-custom: kept\r\n\r\n");
                String response = readResponse(socket.getInputStream(), false).toLowerCase();
                assertThat(response).contains("x-kept: yes").doesNotContain("x-internal").doesNotContain("keep-alive: timeout");
            }
            String seen = scripted.requestHeads.get(0).toLowerCase();
            assertThat(seen).startsWith("get /base/p?q=1 http/1.1")
                    .contains("host: 127.0.0.1:").contains("x-forwarded-host: app.local")
                    .contains("x-forwarded-for: 10.0.0.7, 127.0.0.1").contains("x-forwarded-proto: http")
                    .contains("x-custom: kept")
                    .doesNotContain("x-drop-me").doesNotContain("keep-alive: timeout").doesNotContain("proxy-authorization")
                    .doesNotContain("te: trailers");
        }
    }

    @Test
    void oversizedHeadersGet431AndAnOverlongRequestLine414() throws Exception {
        try (Socket socket = connect()) {
            send(socket, "GET / HTTP/1.1\r\nHost: app\r\nx-big: " + "a".repeat(20_000) + "\r\n\r\n");
            String response = readResponse(socket.getInputStream(), false);
            assertThat(response).startsWith("HTTP/1.1 431").contains("\"error\":\"headers_too_large\"");
        }
        try (Socket socket = connect()) {
            send(socket, "GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: app\r\n\r\n");
            assertThat(readResponse(socket.getInputStream(), false)).startsWith("HTTP/1.1 414");
        }
    }

    @Test
    void upstreamConnectionsAreReusedAcrossRequests() throws Exception {
        try (ScriptedUpstream scripted = new ScriptedUpstream((i, head) -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) {
            String service = route(scripted.url("/"));
            int before = scripted.connections.get();
            for (int i = 0; i < 20; i++) {
                assertThat(harness.get(sidecar, "/", service, "v1").statusCode()).isEqualTo(200);
            }
            // One connection per event loop at most, whichever loop each client connection landed on.
            assertThat(scripted.connections.get() - before).isLessThanOrEqualTo(2);
        }
    }

    @Test
    void aReusedConnectionClosedByTheUpstreamIsRetriedOnceOnAFreshOne() throws Exception {
        // Each connection answers its first request and closes on the second: the keep-alive race.
        try (ScriptedUpstream scripted = new ScriptedUpstream((i, head) -> i == 0
                ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" : null)) {
            String service = route(scripted.url("/"));
            double retries = sidecar.metrics().upstreamRetries().count();
            try (Socket socket = connect()) {
                String get = head("GET", "/", service) + "\r\n";
                for (int i = 0; i < 3; i++) {
                    send(socket, get);
                    assertThat(readResponse(socket.getInputStream(), false)).startsWith("HTTP/1.1 200").endsWith("ok");
                }
                // Each GET after the first on a pooled connection meets the race; the route check above
                // may have warmed the other event loop's pool, so two or three of them were retried.
                assertThat(sidecar.metrics().upstreamRetries().count() - retries).isBetween(2.0, 3.0);

                send(socket, head("POST", "/", service)
                        + "Content-Length: 4\r\n\r\nbody");
                assertThat(readResponse(socket.getInputStream(), false))
                        .startsWith("HTTP/1.1 502").contains("\"error\":\"upstream_unreachable\"");
            }
        }
    }

    @Test
    void aMalformedRequestGets400AndTheConnectionCloses() throws Exception {
        try (Socket socket = connect()) {
            send(socket, "GET / HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
            InputStream in = socket.getInputStream();
            assertThat(readResponse(in, false)).startsWith("HTTP/1.1 400").contains("\"error\":\"bad_request\"");
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    /**
     * Request smuggling and malformed heads, each sent to a route whose upstream records what it
     * receives: the sidecar answers 400 and closes, and the upstream sees nothing of the request.
     */
    @Test
    void smugglingAttemptsGet400AndNeverReachTheUpstream() throws Exception {
        try (ScriptedUpstream scripted = new ScriptedUpstream((i, head) -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) {
            String service = route(scripted.url("/"));
            int seen = scripted.requestHeads.size();
            String post = head("POST", "/", service);
            Map<String, String> attempts = new LinkedHashMap<>();
            attempts.put("Content-Length and Transfer-Encoding", post + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
            attempts.put("Transfer-Encoding and Content-Length", post + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
            attempts.put("two different Content-Lengths", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
            attempts.put("two equal Content-Lengths", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello");
            attempts.put("a list in Content-Length", post + "Content-Length: 5, 5\r\n\r\nhello");
            attempts.put("chunked twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
            attempts.put("a final coding other than chunked", post + "Transfer-Encoding: identity\r\n\r\nhello");
            attempts.put("a signed Content-Length", post + "Content-Length: +5\r\n\r\nhello");
            attempts.put("a non-numeric Content-Length", post + "Content-Length: five\r\n\r\nhello");
            attempts.put("a bare LF", post.replace("Host: app\r\n", "Host: app\n") + "Content-Length: 5\r\n\r\nhello");
            attempts.put("a space in a header name", post + "Bad Name: x\r\nContent-Length: 5\r\n\r\nhello");
            attempts.put("a space before the colon", post + "Content-Length : 5\r\n\r\nhello");
            attempts.put("a control character in a value", post + "X-Value: a\u0001b\r\nContent-Length: 5\r\n\r\nhello");
            for (Map.Entry<String, String> attempt : attempts.entrySet()) {
                try (Socket socket = connect()) {
                    send(socket, attempt.getValue());
                    InputStream in = socket.getInputStream();
                    assertThat(readResponse(in, false)).as(attempt.getKey()).startsWith("HTTP/1.1 400");
                    assertThat(in.read()).as(attempt.getKey() + ": the connection closes").isEqualTo(-1);
                }
                assertThat(scripted.requestHeads).as(attempt.getKey() + ": nothing reached the upstream").hasSize(seen);
            }
            // An obs-fold is replaced by a space before forwarding (RFC 9112 5.2 allows that or a 400):
            // the upstream sees one line.
            try (Socket socket = connect()) {
                send(socket, post + "X-Folded: a\r\n b\r\nContent-Length: 5\r\n\r\nhello");
                assertThat(readResponse(socket.getInputStream(), false)).startsWith("HTTP/1.1 200");
            }
            seen++;
            assertThat(scripted.requestHeads).hasSize(seen);
            assertThat(scripted.requestHeads.get(seen - 1)).containsIgnoringCase("x-folded: a b\r\n").doesNotContain("\r\n b");
            // A transfer coding the sidecar does not understand: 501, and the body is not read.
            for (String coding : List.of("gzip, chunked", "deflate, chunked")) {
                try (Socket socket = connect()) {
                    send(socket, post + "Transfer-Encoding: " + coding + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
                    InputStream in = socket.getInputStream();
                    assertThat(readResponse(in, false)).as(coding).startsWith("HTTP/1.1 501")
                            .contains("\"error\":\"unsupported_transfer_encoding\"");
                    assertThat(in.read()).as(coding + ": the connection closes").isEqualTo(-1);
                }
                assertThat(scripted.requestHeads).as(coding + ": nothing reached the upstream").hasSize(seen);
            }
        }
    }

    @Test
    void moreHeaderFieldsThanAllowedGet431() throws Exception {
        try (ScriptedUpstream scripted = new ScriptedUpstream((i, head) -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) {
            String service = route(scripted.url("/"));
            int seen = scripted.requestHeads.size();
            StringBuilder many = new StringBuilder(head("GET", "/", service));
            for (int i = 0; i < 100; i++) { // with the head's 3: 103, over the default 100
                many.append("X-Field-").append(i).append(": ").append(i).append("\r\n");
            }
            try (Socket socket = connect()) {
                send(socket, many.append("\r\n").toString());
                InputStream in = socket.getInputStream();
                assertThat(readResponse(in, false)).startsWith("HTTP/1.1 431").contains("\"error\":\"headers_too_large\"")
                        .contains("TM_PROXY_MAX_HEADERS");
                // the request was read whole, so the connection serves the next one
                send(socket, head("GET", "/", service) + "\r\n");
                assertThat(readResponse(in, false)).startsWith("HTTP/1.1 200");
            }
            assertThat(scripted.requestHeads).hasSize(seen + 1);
        }
    }

    @Test
    void aBodyOverTheLimitGets413() throws Exception {
        String service = route(upstream.url("/"));
        // announced by Content-Length: refused before any of it is read or forwarded
        try (Socket socket = connect()) {
            send(socket, head("POST", "/sha256", service) + "Content-Length: " + (BODY_LIMIT + 1) + "\r\n\r\nsome of it");
            InputStream in = socket.getInputStream();
            assertThat(readResponse(in, false)).startsWith("HTTP/1.1 413").contains("\"error\":\"body_too_large\"");
            assertThat(in.read()).isEqualTo(-1);
        }
        // chunked: cut off once past the limit, before the upstream answered
        try (Socket socket = connect()) {
            send(socket, head("POST", "/sha256", service) + "Transfer-Encoding: chunked\r\n\r\n");
            String chunk = Integer.toHexString(1 << 20) + "\r\n" + "x".repeat(1 << 20) + "\r\n";
            for (int i = 0; i < 5; i++) { // 5 MiB; the sidecar may close while we still write
                try {
                    send(socket, chunk);
                } catch (IOException e) {
                    break;
                }
            }
            InputStream in = socket.getInputStream();
            assertThat(readResponse(in, false)).startsWith("HTTP/1.1 413").contains("\"error\":\"body_too_large\"");
        }
        // at the limit: forwarded whole
        try (Socket socket = connect()) {
            String body = "y".repeat(BODY_LIMIT);
            send(socket, head("POST", "/sha256", service) + "Content-Length: " + BODY_LIMIT + "\r\n\r\n" + body);
            assertThat(readResponse(socket.getInputStream(), false)).startsWith("HTTP/1.1 200").contains(sha256(body) + " " + BODY_LIMIT);
        }
    }

    @Test
    void pipelinedRequestsWithBodiesEachGetTheirOwnBody() throws Exception {
        String service = route(upstream.url("/"));
        try (Socket socket = connect()) {
            String post = head("POST", "/sha256", service);
            send(socket, post + "Content-Length: 3\r\n\r\none" + post + "Content-Length: 5\r\n\r\nthree"
                    + post + "Transfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n");
            InputStream in = socket.getInputStream();
            assertThat(readResponse(in, false)).contains(sha256("one") + " 3");
            assertThat(readResponse(in, false)).contains(sha256("three") + " 5");
            assertThat(readResponse(in, false)).contains(sha256("two") + " 3");
        }
    }

    @Test
    void aConnectionHeaderCannotStripTheBodysLength() throws Exception {
        try (ScriptedUpstream scripted = new ScriptedUpstream((i, head) -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) {
            String service = route(scripted.url("/"));
            scripted.requestHeads.clear();
            String smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
            try (Socket socket = connect()) {
                send(socket, head("POST", "/", service)
                        + "Connection: content-length\r\nContent-Length: " + smuggled.length() + "\r\n\r\n" + smuggled);
                assertThat(readResponse(socket.getInputStream(), false)).startsWith("HTTP/1.1 200");
            }
            assertThat(scripted.requestHeads).hasSize(1);
            assertThat(scripted.requestHeads.get(0).toLowerCase()).contains("content-length: " + smuggled.length());
        }
    }

    @Test
    void anInvalidUpstreamResponseIs502AndItsConnectionIsNotReused() throws Exception {
        try (ScriptedUpstream scripted = new ScriptedUpstream((i, head) -> head.startsWith("GET /bad")
                ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n"
                : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) {
            String service = route(scripted.url("/"));
            try (Socket socket = connect()) {
                send(socket, head("GET", "/bad", service) + "\r\n");
                // The 200 head may already be on its way, so the client learns of the broken body from
                // the connection closing: never from a clean end of the body.
                String received = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertThat(received).doesNotContain("not a chunk").doesNotEndWith("0\r\n\r\n");
            }
            for (int i = 0; i < 3; i++) {
                assertThat(harness.get(sidecar, "/good", service, "v1").body()).isEqualTo("ok");
            }
        }
        try (ScriptedUpstream garbage = new ScriptedUpstream((i, head) -> "NOT HTTP AT ALL\r\n\r\n")) {
            String service = route(garbage.url("/"));
            HttpResponse<String> response = harness.get(sidecar, "/", service, "v1");
            assertThat(response.statusCode()).as(response.body()).isEqualTo(502);
        }
    }

    @Test
    void aRefusedRequestWithALargeUnreadBodyStillGetsItsResponse() throws Exception {
        try (Socket socket = connect()) {
            int size = 3 << 19; // 1.5 MiB: within what the sidecar discards (2 MiB)
            send(socket, "POST / HTTP/1.1\r\nHost: app\r\nx-tm-service: unknown-" + UUID.randomUUID().toString().substring(0, 8)
                    + "\r\nx-tm-version: v1\r\nContent-Length: " + size + "\r\n\r\n");
            // The client sends its whole body before it reads: the sidecar's 404 must still be there.
            OutputStream out = socket.getOutputStream();
            byte[] chunk = new byte[64 * 1024];
            for (int sent = 0; sent < size; sent += chunk.length) {
                out.write(chunk);
            }
            InputStream in = socket.getInputStream();
            String response = readResponse(in, false);
            assertThat(response).startsWith("HTTP/1.1 404").contains("connection: close").contains("\"error\":\"route_not_found\"");
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void aBrokenChunkedBodyGets400AndTheConnectionCloses() throws Exception {
        try (ScriptedUpstream slow = new ScriptedUpstream((i, head) -> null)) {
            // An upstream that never answers, so the broken chunk is seen before any response.
            String service = route(slow.url("/"));
            try (Socket socket = connect()) {
                send(socket, head("POST", "/", service)
                        + "Transfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n");
                InputStream in = socket.getInputStream();
                assertThat(readResponse(in, false)).startsWith("HTTP/1.1 400").contains("connection: close")
                        .contains("\"error\":\"bad_request\"");
                assertThat(in.read()).isEqualTo(-1);
            }
        }
    }
}
