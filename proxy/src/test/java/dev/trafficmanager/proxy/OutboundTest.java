package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.TestUpstream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authorities that are not route names: outside hosts passed through (allow-any) or refused
 * (registry-only), CONNECT tunnels, the sidecar itself, and malformed authorities, on the wire.
 */
@ExtendWith(LocalStack.class)
class OutboundTest {
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream route;
    private static TestUpstream outside;
    private static Sidecar sidecar;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        route = TestUpstream.start("route");
        outside = TestUpstream.start("outside");
        Map<String, String> env = harness.transparentSidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_CONNECT_PORTS", "*"); // the test servers listen on ports of the kernel's choosing
        sidecar = SidecarHarness.startReady(env);
        harness.newRoute(sidecar, "hello", route.url("/hello"));
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        route.close();
        outside.close();
        harness.close();
    }

    private static HttpResponse<String> viaProxy(Sidecar sidecar, String url) throws Exception {
        HttpClient client = HttpClient.newBuilder()
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", sidecar.port()))).build();
        return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anOutsideHostIsPassedThroughAsAForwardProxyWould() throws Exception {
        double before = sidecar.metrics().passThroughs("http");
        for (String host : new String[] {"localhost", "127.0.0.1"}) {
            String authority = host + ":" + outside.port();
            HttpResponse<String> response = viaProxy(sidecar, "http://" + authority + "/out?q=1");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("outside GET /out?q=1\n");
            assertThat(response.headers().firstValue("x-seen-host")).hasValue(authority);
            assertThat(response.headers().firstValue("x-seen-forwarded-for")).hasValue("127.0.0.1");
        }
        assertThat(sidecar.metrics().passThroughs("http") - before).isEqualTo(2);
        assertThat(sidecar.metrics().scrape()).contains("tm_proxy_passthrough_total{kind=\"http\"}");
    }

    @Test
    void registryOnlyRefusesOutsideHostsButStillRoutesNames() throws Exception {
        Map<String, String> env = harness.transparentSidecarEnv(dir.resolve("registry-only.l1"));
        env.put("TM_OUTBOUND_POLICY", "registry-only");
        try (Sidecar strict = SidecarHarness.startReady(env)) {
            int before = outside.requests();
            HttpResponse<String> refused = viaProxy(strict, "http://127.0.0.1:" + outside.port() + "/out");
            assertThat(refused.statusCode()).isEqualTo(403);
            assertThat(refused.body()).contains("\"error\":\"outbound_forbidden\"").contains("registry-only");
            String tunnel = RawHttp.exchange(strict, "CONNECT 127.0.0.1:" + outside.port() + " HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(tunnel).startsWith("HTTP/1.1 403").contains("\"error\":\"outbound_forbidden\"");
            assertThat(outside.requests()).isEqualTo(before);
            HttpResponse<String> routed = viaProxy(strict, "http://hello/in");
            assertThat(routed.statusCode()).isEqualTo(200);
            assertThat(routed.body()).isEqualTo("route GET /hello/in\n");
        }
    }

    @Test
    void aConnectTunnelCarriesBytesBothWaysAndAnUnreachableHostIs502() throws Exception {
        try (Socket socket = RawHttp.connect(sidecar)) {
            RawHttp.send(socket, "CONNECT 127.0.0.1:" + outside.port() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            assertThat(ScriptedUpstream.readHead(socket.getInputStream())).isEqualTo("HTTP/1.1 200 Connection Established\r\n\r\n");
            RawHttp.send(socket, "GET /tunnelled HTTP/1.1\r\nHost: anything\r\n\r\n");
            String response = RawHttp.readResponse(socket.getInputStream(), false);
            assertThat(response).startsWith("HTTP/1.1 200").endsWith("outside GET /tunnelled\n")
                    .contains("X-seen-host: anything") // bytes, not a forwarded request: nothing rewritten
                    .contains("X-seen-forwarded-for: null");
        }
        int closedPort;
        try (ServerSocket free = new ServerSocket(0)) {
            closedPort = free.getLocalPort();
        }
        String refused = RawHttp.exchange(sidecar, "CONNECT 127.0.0.1:" + closedPort + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(refused).startsWith("HTTP/1.1 502").contains("\"error\":\"upstream_unreachable\"");
        // a CONNECT that asked to close gets its 502 and the close
        try (Socket socket = RawHttp.connect(sidecar)) {
            RawHttp.send(socket, "CONNECT 127.0.0.1:" + closedPort + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertThat(RawHttp.readResponse(socket.getInputStream(), false)).startsWith("HTTP/1.1 502")
                    .containsIgnoringCase("connection: close");
            assertThat(socket.getInputStream().read()).as("closed by the sidecar").isEqualTo(-1);
        }
    }

    @Test
    void aRequestComingRoundInALoopIs508() throws Exception {
        harness.newRoute(sidecar, "self", "http://127.0.0.1:" + sidecar.port() + "/"); // a route to the sidecar itself
        String response = RawHttp.exchange(sidecar, "GET /x HTTP/1.1\r\nHost: self\r\nConnection: close\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 508").contains("\"error\":\"loop_detected\"");
        HttpResponse<String> outsideResponse = viaProxy(sidecar, "http://127.0.0.1:" + outside.port() + "/via");
        assertThat(outsideResponse.headers().firstValue("x-seen-via").orElseThrow()).matches("1\\.1 tm-[0-9a-f]{8}");
    }

    @Test
    void connectToARouteNameIsRefusedWithWhatToDoInstead() throws Exception {
        String response = RawHttp.exchange(sidecar, "CONNECT hello:443 HTTP/1.1\r\nHost: hello:443\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400").contains("\"error\":\"connect_to_route\"").contains("http://hello/");
    }

    @Test
    void theSidecarAsItsOwnAuthorityStillAsksForTheServiceHeader() throws Exception {
        String response = RawHttp.exchange(sidecar, "GET / HTTP/1.1\r\nHost: 127.0.0.1:" + sidecar.port() + "\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400").contains("\"error\":\"missing_route_header\"")
                .contains("is this sidecar");
    }

    @Test
    void malformedAuthoritiesAre400AndReachNoUpstream() throws IOException {
        int routeBefore = route.requests();
        int outsideBefore = outside.requests();
        String[] heads = {
            "GET /x HTTP/1.1\r\nHost: hello\r\nHost: other\r\n\r\n",
            "GET /x HTTP/1.1\r\nHost: hel lo\r\n\r\n",
            "GET /x HTTP/1.1\r\nHost: hello/../admin\r\n\r\n",
            "GET /x HTTP/1.1\r\nHost:\r\n\r\n",
            "GET /x HTTP/1.1\r\n\r\n",
            "GET http:///x HTTP/1.1\r\nHost: hello\r\n\r\n",
            "GET http://user@hello/x HTTP/1.1\r\nHost: hello\r\n\r\n",
            "GET /x HTTP/1.1\r\nHost: hello:0\r\n\r\n",
        };
        for (String head : heads) {
            String response = RawHttp.exchange(sidecar, head);
            assertThat(response).as(head).startsWith("HTTP/1.1 400").contains("\"error\":\"invalid_host\"");
        }
        assertThat(route.requests()).isEqualTo(routeBefore);
        assertThat(outside.requests()).isEqualTo(outsideBefore);
    }

    @Test
    void anAbsoluteFormTargetWinsOverADisagreeingHost() throws Exception {
        String response = RawHttp.exchange(sidecar, "GET http://hello/x HTTP/1.1\r\nHost: 127.0.0.1:" + outside.port()
                + "\r\nConnection: close\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 200").endsWith("route GET /hello/x\n");
    }
}
