package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LocalStack.class)
class GracefulShutdownTest {
    @TempDir
    Path dir;

    @Test
    void stoppingTurnsReadyzTo503ServesUntilQuietThenClosesThePort() throws Exception {
        try (SidecarHarness harness = SidecarHarness.start(); TestUpstream upstream = TestUpstream.start("a")) {
            harness.put("slow", "v1", upstream.url("/"));
            var env = harness.sidecarEnv(dir.resolve("routes.l1"));
            env.put("TM_UPSTREAM_RESPONSE_TIMEOUT_MS", "10000");
            env.put("TM_PROXY_DRAIN_TIMEOUT_MS", "10000");
            Sidecar sidecar = SidecarHarness.startReady(env);
            int port = sidecar.port();
            String readyz = "http://127.0.0.1:" + sidecar.adminPort() + "/readyz";
            Poll.until(Duration.ofSeconds(2), "route served", () -> harness.get(sidecar, "/", "slow", "v1").statusCode() == 200);

            int before = upstream.requests();
            CompletableFuture<HttpResponse<String>> inFlight = harness.http().sendAsync(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/slow?ms=2000"))
                            .header("x-tm-service", "slow").header("x-tm-version", "v1").build(),
                    HttpResponse.BodyHandlers.ofString());
            Poll.until(Duration.ofSeconds(5), "request at the upstream", () -> upstream.requests() > before);

            CompletableFuture<Void> stopping = CompletableFuture.runAsync(sidecar::close);
            Poll.until(Duration.ofSeconds(2), "readyz 503", () ->
                    harness.send(HttpRequest.newBuilder(URI.create(readyz)).build()).statusCode() == 503);
            // Still serving while draining (the application's own shutdown may call out), but
            // every response now closes its connection.
            HttpResponse<String> during = harness.get(sidecar, "/", "slow", "v1");
            assertThat(during.statusCode()).isEqualTo(200);
            assertThat(during.headers().firstValue("connection")).hasValue("close");
            assertThat(stopping).isNotDone();

            HttpResponse<String> response = inFlight.get();
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).isEqualTo("slow a\n");
            assertThat(response.headers().firstValue("connection")).hasValue("close");
            stopping.get();
            assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(IOException.class);
        }
    }
}
