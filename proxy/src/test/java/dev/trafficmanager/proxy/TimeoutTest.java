package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The client idle timeout and the stalled-response-body timeout, set short. */
@ExtendWith(LocalStack.class)
class TimeoutTest {
    @TempDir
    Path dir;

    @Test
    void anIdleClientIsClosedAndAStalledResponseBodyIsCutOff() throws Exception {
        try (SidecarHarness harness = SidecarHarness.start();
             ScriptedUpstream stalling = new ScriptedUpstream((i, head) ->
                     "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part of the body")) {
            harness.put("stall", "v1", stalling.url("/"));
            Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
            env.put("TM_PROXY_IDLE_TIMEOUT_MS", "300");
            env.put("TM_UPSTREAM_IDLE_TIMEOUT_MS", "300");
            try (Sidecar sidecar = SidecarHarness.startReady(env)) {
                Poll.until(Duration.ofSeconds(2), "route known", () -> sidecar.resolver().entry(harness.tenant + "/stall/prod/v1") != null);

                try (Socket idle = new Socket("127.0.0.1", sidecar.port())) {
                    idle.setSoTimeout(5000);
                    long start = System.nanoTime();
                    assertThat(idle.getInputStream().read()).isEqualTo(-1);
                    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
                }

                try (Socket client = new Socket("127.0.0.1", sidecar.port())) {
                    client.setSoTimeout(5000);
                    client.getOutputStream().write(("GET / HTTP/1.1\r\nHost: app\r\nx-tm-service: stall\r\nx-tm-version: v1\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    InputStream in = client.getInputStream();
                    String received = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertThat(received).startsWith("HTTP/1.1 200").endsWith("only part of the body");
                }
            }
        }
    }
}
