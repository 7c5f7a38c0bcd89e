package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.Command;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.TestUpstream;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients that know nothing of the sidecar, configured only by their standard proxy setting, reach
 * a route by its service name with no route headers: the JDK's HttpClient with a ProxySelector,
 * curl with -x, http_proxy and HTTPS_PROXY, and Python's urllib with HTTP_PROXY.
 */
@ExtendWith(LocalStack.class)
class RealClientsTest {
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream upstream;
    private static Sidecar sidecar;
    private static String proxy;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        upstream = TestUpstream.start("hello-v1");
        Map<String, String> env = harness.transparentSidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_CONNECT_PORTS", "*"); // the https test server listens on a port of the kernel's choosing
        sidecar = SidecarHarness.startReady(env);
        harness.newRoute(sidecar, "hello", upstream.url("/hello-v1"));
        proxy = "http://127.0.0.1:" + sidecar.port();
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        upstream.close();
        harness.close();
    }

    @Test
    void theJdkHttpClientWithAProxySelectorReachesARouteByName() throws Exception {
        HttpClient client = HttpClient.newBuilder()
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", sidecar.port())))
                .connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create("http://hello/greet?name=ada"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isEqualTo("hello-v1 GET /hello-v1/greet?name=ada\n");
        assertThat(response.headers().firstValue("x-seen-host")).hasValue("127.0.0.1:" + upstream.port());
    }

    @Test
    void curlWithDashXReachesARouteByNameWithItsPortAndClusterSuffix() {
        assertThat(ExternalClients.curl(Map.of(), "-x", proxy, "http://hello/greet")).isEqualTo("hello-v1 GET /hello-v1/greet\n200");
        assertThat(ExternalClients.curl(Map.of(), "-x", proxy, "http://hello.svc.cluster.local:8080/greet"))
                .isEqualTo("hello-v1 GET /hello-v1/greet\n200");
    }

    @Test
    void curlWithHttpProxySetReachesARouteByName() {
        // curl reads only the lower-case http_proxy (upper case is ignored for http, against "httpoxy")
        assertThat(ExternalClients.curl(Map.of("http_proxy", proxy), "http://hello/env")).isEqualTo("hello-v1 GET /hello-v1/env\n200");
    }

    @Test
    void pythonsUrllibWithHttpProxySetReachesARouteByName() {
        assertThat(Command.available("python3")).as("python3 on the PATH (dev/stack.sh testtools installs it)").isTrue();
        Map<String, String> env = ExternalClients.proxyEnv(Map.of("HTTP_PROXY", proxy));
        Command.Result result = Command.run(List.of("python3", "-c", """
                import urllib.request
                with urllib.request.urlopen("http://hello/py?x=1", timeout=10) as response:
                    print(response.status, response.read().decode(), end="")
                """), env, dir, Duration.ofSeconds(30));
        assertThat(result.output()).isEqualTo("200 hello-v1 GET /hello-v1/py?x=1\n");
        assertThat(result.exit()).isZero();
    }

    @Test
    void curlWithHttpsProxyTunnelsToAnOutsideHttpsHost() throws Exception {
        TestTls tls = TestTls.create(dir);
        try (TestUpstream secure = TestUpstream.startTls("secure", tls.server())) {
            String body = ExternalClients.curl(Map.of("HTTPS_PROXY", proxy), "--cacert", tls.certificate().toString(),
                    "https://localhost:" + secure.port() + "/over-tls");
            assertThat(body).isEqualTo("secure GET /over-tls\n200");
        }
        assertThat(sidecar.metrics().scrape()).contains("tm_proxy_passthrough_total{kind=\"connect\"}");
    }
}
