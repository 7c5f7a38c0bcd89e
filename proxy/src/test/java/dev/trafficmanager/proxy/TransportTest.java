package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import io.netty.channel.uring.IoUring;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** TM_PROXY_TRANSPORT: a sidecar proxies alike on io_uring, epoll and NIO; the default picks io_uring where it can; a bad name is refused. */
@ExtendWith(LocalStack.class)
class TransportTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void aSidecarOnEachTransportForwardsARequestAndCountsItsResponse(String transport) throws Exception {
        Assumptions.assumeTrue(!transport.equals("io_uring") || IoUring.isAvailable(), "io_uring is not available here");
        try (SidecarHarness harness = SidecarHarness.start(); TestUpstream upstream = TestUpstream.start("u")) {
            Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
            env.put("TM_PROXY_TRANSPORT", transport);
            try (Sidecar sidecar = SidecarHarness.startReady(env)) {
                assertThat(sidecar.transport()).isEqualTo(transport);
                String service = harness.newRoute(sidecar, upstream.url("/base"));
                for (int i = 0; i < 3; i++) { // the second and third on a pooled upstream connection
                    HttpResponse<String> response = harness.get(sidecar, "/x", service, "v1");
                    assertThat(response.statusCode()).isEqualTo(200);
                    assertThat(response.headers().firstValue("x-upstream")).hasValue("u");
                }
                // Counted on the event loop as the last write goes out: it may trail the client's read a little.
                Poll.until(Duration.ofSeconds(5), "three 2xx counted",
                        () -> sidecar.metrics().scrape().contains("tm_proxy_requests_total{status_class=\"2xx\"} 3.0"));
            }
        }
    }

    @Test
    void theDefaultPicksIoUringWhereTheKernelAllowsItElseEpoll() {
        String expected = IoUring.isAvailable() ? "io_uring" : "epoll";
        assertThat(ProxyConfig.fromEnv(Map.of("TM_TENANT", "team", "TM_ENV", "prod")).transport()).isEqualTo("auto");
        assertThat(Transport.select("auto").name()).isEqualTo(expected);
        assertThat(Transport.select("epoll").name()).isEqualTo("epoll");
        assertThat(Transport.select("nio").name()).isEqualTo("nio");
    }

    @Test
    void anUnknownTransportIsRefusedNamingTheChoices() {
        assertThatThrownBy(() -> ProxyConfig.fromEnv(Map.of("TM_TENANT", "team", "TM_ENV", "prod", "TM_PROXY_TRANSPORT", "kqueue")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("TM_PROXY_TRANSPORT: \"kqueue\" (expected: auto, io_uring, epoll or nio)");
    }
}
