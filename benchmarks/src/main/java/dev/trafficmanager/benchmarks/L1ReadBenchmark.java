package dev.trafficmanager.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ExternalMapQueryContext;
import net.openhft.chronicle.map.MapEntry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * How an L1 read takes its segment lock, side by side on one map of 100k entries laid out as the
 * sidecar's: {@code get} waits for the read lock (Chronicle's {@code map.get}, up to its lock
 * timeout), {@code tryLock} takes it only if free (what {@code L1Store.get} does, so a lock left
 * by a dead process reads as a miss instead of stalling an event loop), {@code offLoop} hands
 * {@code map.get} to another thread and waits for it (the other way to keep a dead lock off an
 * event loop: the hop there and back is the cost).
 */
@State(Scope.Thread)
public class L1ReadBenchmark extends BenchmarkBase {
    private static final int ROUTES = 100_000;
    private static final int HOT = 1024;

    @Param({"get", "tryLock", "offLoop"})
    public String read;

    private ExecutorService executor;

    private Path dir;
    private ChronicleMap<CharSequence, byte[]> map;
    private String[] keys;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("tm-bench-l1");
        executor = Executors.newSingleThreadExecutor();
        map = ChronicleMap.of(CharSequence.class, byte[].class).name("tm-routes").entries(ROUTES * 2)
                .averageKey("tenant-name/service-name/production/v12").averageValueSize(66)
                .createPersistedTo(dir.resolve("routes.l1").toFile());
        byte[] value = new byte[66];
        keys = new String[HOT];
        for (int i = 0; i < ROUTES; i++) {
            String key = "team-" + (i % 97) + "/svc-" + i + "/prod/v1";
            map.put(key, value);
            if (i < HOT) {
                keys[i] = key;
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        executor.shutdownNow();
        map.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public byte[] read() throws Exception {
        String key = keys[next++ & (HOT - 1)];
        if (read.equals("get")) {
            return map.get(key);
        }
        if (read.equals("offLoop")) {
            return CompletableFuture.supplyAsync(() -> map.get(key), executor).get();
        }
        try (ExternalMapQueryContext<CharSequence, byte[], ?> context = map.queryContext(key)) {
            if (!context.readLock().tryLock()) {
                return null;
            }
            MapEntry<CharSequence, byte[]> entry = context.entry();
            return entry == null ? null : entry.value().get();
        }
    }
}
