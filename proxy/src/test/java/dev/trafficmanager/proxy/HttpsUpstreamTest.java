package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** https upstreams: verified against TM_UPSTREAM_CA_FILE, refused (502) when not trusted. */
@ExtendWith(LocalStack.class)
class HttpsUpstreamTest {
    @TempDir
    Path dir;

    @Test
    void anHttpsUpstreamIsReachedWhenItsCertificateIsTrustedAndRefusedOtherwise() throws Exception {
        TestTls tls = TestTls.create(dir);
        Path ca = tls.certificate();
        try (SidecarHarness harness = SidecarHarness.start();
             TestUpstream upstream = TestUpstream.startTls("tls", tls.server())) {
            harness.put("secure", "v1", upstream.url("/base"));

            Map<String, String> env = harness.sidecarEnv(dir.resolve("trusting.l1"));
            env.put("TM_UPSTREAM_CA_FILE", ca.toString());
            try (Sidecar trusting = SidecarHarness.startReady(env)) {
                HttpResponse<String> response = Poll.value(Duration.ofSeconds(2), "served over TLS", () -> {
                    HttpResponse<String> r = harness.get(trusting, "/x", "secure", "v1");
                    return r.statusCode() == 200 ? r : null;
                });
                assertThat(response.body()).isEqualTo("tls GET /base/x\n");
            }

            try (Sidecar untrusting = SidecarHarness.startReady(harness.sidecarEnv(dir.resolve("default.l1")))) {
                HttpResponse<String> response = harness.get(untrusting, "/x", "secure", "v1");
                assertThat(response.statusCode()).isEqualTo(502);
                assertThat(response.body()).contains("\"error\":\"upstream_unreachable\"");
            }
        }
    }
}
