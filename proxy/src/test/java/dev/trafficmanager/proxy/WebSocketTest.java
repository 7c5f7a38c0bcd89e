package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * WebSocket through the sidecar with the JDK's client and a Netty server: the upstream's 101 is
 * relayed and the connection becomes a tunnel that outlives the response timeout (1.5 s here),
 * closes cleanly from either side, and closes when idle past TM_TUNNEL_IDLE_TIMEOUT_MS (3 s here).
 * An {@code Upgrade: h2c} is still dropped and served as HTTP/1.1.
 */
@ExtendWith(LocalStack.class)
@Timeout(120)
class WebSocketTest {
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static WebSocketEcho echo;
    private static Sidecar sidecar;
    private static String service;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        echo = new WebSocketEcho();
        Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_TUNNEL_IDLE_TIMEOUT_MS", "3000");
        sidecar = SidecarHarness.startReady(env);
        service = harness.newRoute(sidecar, echo.url());
    }

    @AfterAll
    static void stop() throws Exception {
        sidecar.close();
        echo.close();
        harness.close();
    }

    /** Collects what a WebSocket receives, and how it ended. */
    private static final class Inbox implements WebSocket.Listener {
        final LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        final CompletableFuture<String> closed = new CompletableFuture<>();

        private final StringBuilder partial = new StringBuilder();

        /** A message may come in parts (the client hands over what one read brought): whole ones are queued. */
        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                texts.add(partial.toString());
                partial.setLength(0);
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int status, String reason) {
            closed.complete(status + " " + reason);
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            closed.complete("error " + error);
        }
    }

    private static WebSocket open(Inbox inbox) throws Exception {
        return HttpClient.newHttpClient().newWebSocketBuilder().header("x-tm-service", service)
                .header("x-tm-version", "v1").connectTimeout(Duration.ofSeconds(5))
                .buildAsync(URI.create("ws://127.0.0.1:" + sidecar.port() + "/ws"), inbox).get(10, TimeUnit.SECONDS);
    }

    private static void awaitNoTunnel() {
        Poll.until(Duration.ofSeconds(10), "no tunnel open", () -> sidecar.metrics().tunnelsOpen().sum() == 0);
    }

    @Test
    void aLongLivedWebSocketOutlivesTheResponseTimeoutAndClosesFromTheClient() throws Exception {
        double upgradesBefore = sidecar.metrics().upgrades("websocket");
        Inbox inbox = new Inbox();
        WebSocket socket = open(inbox);
        // Counted on the event loop once the 101 is written: it may trail the client's handshake a little.
        Poll.until(Duration.ofSeconds(5), "the upgrade counted, its tunnel open", () ->
                sidecar.metrics().upgrades("websocket") == upgradesBefore + 1 && sidecar.metrics().tunnelsOpen().sum() == 1);
        long opened = System.nanoTime();
        for (int i = 0; System.nanoTime() - opened < TimeUnit.SECONDS.toNanos(4); i++) { // past the 1.5 s response timeout
            socket.sendText("m" + i, true).get(5, TimeUnit.SECONDS);
            assertThat(inbox.texts.poll(5, TimeUnit.SECONDS)).isEqualTo("echo: m" + i);
        }
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "client done").get(5, TimeUnit.SECONDS);
        assertThat(inbox.closed.get(10, TimeUnit.SECONDS)).startsWith("1000");
        awaitNoTunnel();
    }

    @Test
    void aCloseFromTheServerReachesTheClient() throws Exception {
        Inbox inbox = new Inbox();
        WebSocket socket = open(inbox);
        socket.sendText("bye", true).get(5, TimeUnit.SECONDS);
        assertThat(inbox.closed.get(10, TimeUnit.SECONDS)).isEqualTo("1000 server says bye");
        awaitNoTunnel(); // the client's close reply went back, and the server closed the connection
        assertThat(socket.isOutputClosed()).isTrue();
    }

    @Test
    void anIdleTunnelClosesAfterTheTunnelIdleTimeout() throws Exception {
        Inbox inbox = new Inbox();
        open(inbox);
        long opened = System.nanoTime();
        assertThat(inbox.closed.get(15, TimeUnit.SECONDS)).isNotNull();
        assertThat(Duration.ofNanos(System.nanoTime() - opened)).isGreaterThanOrEqualTo(Duration.ofMillis(2500));
        awaitNoTunnel();
    }

    @Test
    void anH2cUpgradeIsDroppedAndServedAsHttp11() throws Exception {
        try (ScriptedUpstream upstream = new ScriptedUpstream((i, head) ->
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) {
            String h2c = harness.newRoute(sidecar, upstream.url("/"));
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), sidecar.port())) {
                OutputStream out = socket.getOutputStream();
                out.write(("GET / HTTP/1.1\r\nHost: x\r\nx-tm-service: " + h2c + "\r\nx-tm-version: v1\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                        + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                socket.setSoTimeout(10_000);
                InputStream in = socket.getInputStream();
                byte[] head = in.readNBytes(15);
                assertThat(new String(head, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200 OK");
            }
            assertThat(upstream.requestHeads).hasSize(1);
            assertThat(upstream.requestHeads.get(0).toLowerCase()).doesNotContain("upgrade").doesNotContain("http2-settings");
        }
    }
}
