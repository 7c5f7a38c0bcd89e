package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.TestUpstream;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The L1 file cannot take a node's sidecars down: a corrupt file, a process killed holding a lock. */
@ExtendWith(LocalStack.class)
class L1FaultTest {
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static TestUpstream upstream;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        upstream = TestUpstream.start("hello-v1");
    }

    @AfterAll
    static void stop() {
        upstream.close();
        harness.close();
    }

    private static String get(Sidecar sidecar, String service) throws Exception {
        return RawHttp.exchange(sidecar, "GET /greet HTTP/1.1\r\nHost: " + service + "\r\n\r\n");
    }

    @Test
    void aSidecarStartsAndRoutesOverACorruptL1File() throws Exception {
        Path l1 = dir.resolve("corrupt/routes.l1");
        Files.createDirectories(l1.getParent());
        byte[] garbage = new byte[256 * 1024];
        new Random(1).nextBytes(garbage);
        Files.write(l1, garbage);
        long started = System.nanoTime();
        try (Sidecar sidecar = SidecarHarness.startReady(harness.transparentSidecarEnv(l1))) {
            System.out.printf("sidecar over a corrupt L1 file ready in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            harness.newRoute(sidecar, "hello", upstream.url("/hello-v1"));
            assertThat(get(sidecar, "hello")).startsWith("HTTP/1.1 200").endsWith("hello-v1 GET /hello-v1/greet\n");
        }
        try (Stream<Path> files = Files.list(l1.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).anyMatch(name -> name.startsWith("routes.l1.broken-"));
        }
    }

    @Test
    void aProcessKilledHoldingASegmentLockCostsRequestsABoundedWait() throws Exception {
        Path l1 = dir.resolve("locked/routes.l1");
        Map<String, String> env = harness.transparentSidecarEnv(l1);
        env.put("TM_NEAR_CACHE_ENTRIES", "0"); // every request reads L1
        try (Sidecar sidecar = SidecarHarness.startReady(env)) {
            harness.newRoute(sidecar, "locked", upstream.url("/hello-v1"));
            assertThat(get(sidecar, "locked")).startsWith("HTTP/1.1 200");

            Process holder = new ProcessBuilder(JavaCommand.of("64m", "dev.trafficmanager.proxy.lookup.L1LockHolder",
                    l1.toString(), harness.key("locked"))).redirectErrorStream(true).start();
            try (BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null && !line.equals("locked")) {
                    // Chronicle's start-up chatter
                }
                assertThat(line).as("the holder took the lock").isEqualTo("locked");
            }
            holder.destroyForcibly(); // SIGKILL: the lock stays taken in the shared file
            assertThat(holder.waitFor(10, TimeUnit.SECONDS)).isTrue();

            double busyBefore = sidecar.metrics().l1LockBusy().count();
            long slowest = 0;
            for (int i = 0; i < 20; i++) {
                long t0 = System.nanoTime();
                assertThat(get(sidecar, "locked")).startsWith("HTTP/1.1 200").endsWith("hello-v1 GET /hello-v1/greet\n");
                slowest = Math.max(slowest, System.nanoTime() - t0);
            }
            System.out.printf("20 requests over a dead segment lock: slowest %.1f ms%n", slowest / 1e6);
            assertThat(TimeUnit.NANOSECONDS.toMillis(slowest)).as("slowest request, ms").isLessThan(1000);
            assertThat(sidecar.metrics().l1LockBusy().count()).isGreaterThan(busyBefore);
        }
    }
}
