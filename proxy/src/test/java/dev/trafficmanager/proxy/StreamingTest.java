package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import dev.trafficmanager.testing.TestUpstream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bodies far larger than the sidecar's heap pass through byte-exact: the sidecar runs in its own
 * JVM at -Xmx128m (Netty's direct memory is capped at the same size) and streams 256 MiB each way.
 */
@ExtendWith(LocalStack.class)
class StreamingTest {
    private static final long SIZE = 256L << 20;

    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream upstream;
    private static Process sidecar;
    private static int proxyPort;
    private static String service;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        upstream = TestUpstream.start("big");
        service = "stream";
        harness.put(service, "v1", upstream.url("/"));
        proxyPort = freePort();
        int adminPort = freePort();
        Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_PROXY_PORT", String.valueOf(proxyPort));
        env.put("TM_PROXY_ADMIN_PORT", String.valueOf(adminPort));
        env.put("TM_UPSTREAM_RESPONSE_TIMEOUT_MS", "60000");
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m"));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-") || arg.startsWith("-Dchronicle") || arg.startsWith("-Dio.netty.leakDetection")) {
                command.add(arg);
            }
        }
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("sidecar.log").toFile());
        builder.environment().putAll(env);
        sidecar = builder.start();
        Poll.until(Duration.ofSeconds(60), "sidecar ready at -Xmx128m", () -> {
            if (!sidecar.isAlive()) {
                throw new AssertionError("the sidecar exited: " + log());
            }
            try {
                return harness.http().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
            } catch (IOException e) {
                return false; // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        });
    }

    @AfterAll
    static void stop() throws Exception {
        if (sidecar != null) {
            sidecar.destroy();
            if (!sidecar.waitFor(20, TimeUnit.SECONDS)) {
                sidecar.destroyForcibly();
            }
            assertThat(log()).doesNotContain("LEAK:").doesNotContain("OutOfMemoryError");
        }
        upstream.close();
        harness.close();
    }

    private static String log() {
        try {
            return Files.readString(dir.resolve("sidecar.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxyPort + path))
                .header("x-tm-service", service).header("x-tm-version", "v1").timeout(Duration.ofMinutes(3));
    }

    /** The {@link TestUpstream#pattern} bytes, generated as they are read. */
    private static InputStream patternStream(long size) {
        return new InputStream() {
            private long position;

            @Override
            public int read() {
                return position < size ? TestUpstream.pattern(position++) & 0xff : -1;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) {
                if (position >= size) {
                    return -1;
                }
                int n = (int) Math.min(length, size - position);
                for (int i = 0; i < n; i++) {
                    buffer[offset + i] = TestUpstream.pattern(position++);
                }
                return n;
            }
        };
    }

    private static String sha256(InputStream in) throws Exception {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = in.read(buffer)) > 0; ) {
            digest.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    @Test
    void a256MibRequestBodyPassesThroughByteExact() throws Exception {
        HttpResponse<String> response = harness.http().send(request("/sha256")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> patternStream(SIZE))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body().trim()).isEqualTo(sha256(patternStream(SIZE)) + " " + SIZE);
        assertThat(sidecar.isAlive()).isTrue();
    }

    @Test
    void a256MibResponseBodyPassesThroughByteExact() throws Exception {
        HttpResponse<InputStream> response = harness.http().send(request("/bytes?n=" + SIZE).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        String received;
        try (InputStream body = response.body()) {
            received = sha256(body);
        }
        assertThat(received).isEqualTo(sha256(patternStream(SIZE)));
        assertThat(sidecar.isAlive()).isTrue();
    }
}
