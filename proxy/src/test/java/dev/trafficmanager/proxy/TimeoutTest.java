package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
                Poll.until(Duration.ofSeconds(2), "route known", () -> sidecar.resolver().entry(harness.key("stall")) != null);

                try (Socket idle = new Socket("127.0.0.1", sidecar.port())) {
                    idle.setSoTimeout(5000);
                    long start = System.nanoTime();
                    assertThat(idle.getInputStream().read()).isEqualTo(-1);
                    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
                }

                // A request head trickled a byte at a time (slowloris): every byte is activity, but no
                // request ever starts, so the idle timeout still closes the connection.
                try (Socket slow = new Socket("127.0.0.1", sidecar.port())) {
                    long start = System.nanoTime();
                    OutputStream out = slow.getOutputStream();
                    out.write("GET / HTTP/1.1\r\nHost: app\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    boolean closed = false;
                    for (int i = 0; i < 40 && !closed; i++) { // 40 x 100 ms: at most 4 s
                        try {
                            out.write('x');
                            out.flush();
                            Thread.sleep(100); // the pace of the attack, not a wait for a condition
                        } catch (IOException e) {
                            closed = true;
                        }
                    }
                    assertThat(closed).as("trickling connection closed").isTrue();
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

    @Test
    void aPooledUpstreamConnectionClosesAfterThePoolIdleTimeout() throws Exception {
        try (SidecarHarness harness = SidecarHarness.start();
             ScriptedUpstream upstream = new ScriptedUpstream((i, head) -> "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) {
            harness.put("pooled", "v1", upstream.url("/"));
            Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
            env.put("TM_UPSTREAM_POOL_IDLE_MS", "300");
            try (Sidecar sidecar = SidecarHarness.startReady(env)) {
                Poll.until(Duration.ofSeconds(2), "route known", () -> sidecar.resolver().entry(harness.key("pooled")) != null);
                try (Socket client = new Socket("127.0.0.1", sidecar.port())) {
                    client.setSoTimeout(5000);
                    long sent = System.nanoTime(); // the connection is pooled after this, so it cannot close sooner than 300 ms from here
                    client.getOutputStream().write(("GET / HTTP/1.1\r\nHost: app\r\nx-tm-service: pooled\r\nx-tm-version: v1\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    byte[] response = new byte[256];
                    int n = client.getInputStream().read(response);
                    assertThat(new String(response, 0, n, StandardCharsets.ISO_8859_1)).startsWith("HTTP/1.1 200").endsWith("ok");
                    assertThat(sidecar.metrics().scrape()).contains("tm_upstream_connections_idle 1.0");
                    Poll.until(Duration.ofSeconds(3), "pooled connection closed",
                            () -> sidecar.metrics().scrape().contains("tm_upstream_connections_open 0.0"));
                    assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
                }
            }
        }
    }
}
