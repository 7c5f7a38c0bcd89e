package dev.trafficmanager.benchmarks;

import dev.trafficmanager.proxy.lookup.L1Store;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.route.RouteEvent;
import dev.trafficmanager.route.RouteEventCodec;
import dev.trafficmanager.route.RouteEventType;
import dev.trafficmanager.route.RouteKey;
import java.nio.file.Files;
import java.nio.file.Path;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What the sidecar's writer thread does per route event off Kafka: decode the record, then the
 * revision-guarded write into L1 (Chronicle Map entry lock, read, compare, replace), over 10k keys
 * with a rising revision so every write lands.
 */
@State(Scope.Thread)
public class EventApplyBenchmark extends BenchmarkBase {
    private static final int KEYS = 10_000;

    private Path dir;
    private L1Store l1;
    private RouteKey[] keys;
    private long revision = 1;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("tm-bench");
        l1 = L1Store.open(dir.resolve("routes.l1"), KEYS * 2);
        keys = new RouteKey[KEYS];
        for (int i = 0; i < KEYS; i++) {
            keys[i] = new RouteKey("team-" + (i % 50), "service-" + i, "production", "v1");
        }
    }

    @Benchmark
    public boolean decodeAndApply() {
        int i = next++ % KEYS;
        if (i == 0) {
            revision++;
        }
        byte[] record = RouteEventCodec.encode(new RouteEvent(RouteEventType.UPDATED, keys[i],
                "http://service-" + i + ".team.svc:8080/api", true, revision, 0));
        RouteEvent event = RouteEventCodec.decode(record);
        return l1.apply(RouteEntry.found(event.key().toString(), event.url(), event.active(), event.revision(),
                System.currentTimeMillis()));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        l1.close();
        try (var files = Files.list(dir)) {
            files.forEach(f -> f.toFile().delete());
        }
        Files.deleteIfExists(dir);
    }
}
