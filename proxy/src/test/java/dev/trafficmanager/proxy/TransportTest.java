package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.TestUpstream;
import io.netty.channel.uring.IoUring;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** TM_PROXY_TRANSPORT: a sidecar on io_uring proxies like one on epoll; a bad name is refused. */
@ExtendWith(LocalStack.class)
class TransportTest {
    @TempDir
    Path dir;

    @Test
    void aSidecarOnIoUringForwardsARequestAndCountsItsResponse() throws Exception {
        Assumptions.assumeTrue(IoUring.isAvailable(), "io_uring is not available on this kernel");
        try (SidecarHarness harness = SidecarHarness.start(); TestUpstream upstream = TestUpstream.start("u")) {
            Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
            env.put("TM_PROXY_TRANSPORT", "io_uring");
            try (Sidecar sidecar = SidecarHarness.startReady(env)) {
                assertThat(sidecar.transport()).isEqualTo("io_uring");
                String service = harness.newRoute(sidecar, upstream.url("/base"));
                for (int i = 0; i < 3; i++) { // the second and third on a pooled upstream connection
                    HttpResponse<String> response = harness.get(sidecar, "/x", service, "v1");
                    assertThat(response.statusCode()).isEqualTo(200);
                    assertThat(response.headers().firstValue("x-upstream")).hasValue("u");
                }
                assertThat(sidecar.metrics().scrape()).contains("tm_proxy_requests_total{status_class=\"2xx\"} 3.0");
            }
        }
    }

    @Test
    void anUnknownTransportIsRefusedNamingTheChoices() {
        assertThatThrownBy(() -> ProxyConfig.fromEnv(Map.of("TM_TENANT", "team", "TM_ENV", "prod", "TM_PROXY_TRANSPORT", "kqueue")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("TM_PROXY_TRANSPORT: \"kqueue\" (expected: epoll, io_uring or nio)");
    }
}
