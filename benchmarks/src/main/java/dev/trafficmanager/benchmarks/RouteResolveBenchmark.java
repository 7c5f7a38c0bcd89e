package dev.trafficmanager.benchmarks;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.lookup.L1Store;
import dev.trafficmanager.proxy.lookup.Resolver;
import dev.trafficmanager.proxy.lookup.RouteCache;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.lookup.RouteKeyProbe;
import dev.trafficmanager.proxy.lookup.RouteSource;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The resolve step of a request, over 100k routes in L1, for the 1,024 hottest keys in turn:
 * <ul>
 *   <li>{@code near}: the sidecar as it runs, the on-heap near cache in front of L1</li>
 *   <li>{@code chronicle}: the near cache off, every resolve reads the Chronicle Map (copy + decode)</li>
 *   <li>{@code chm}: a bare ConcurrentHashMap lookup of the same probes, the floor to compare with</li>
 * </ul>
 * {@code negative} resolves keys whose L1 entries say "no such route".
 */
@State(Scope.Thread)
public class RouteResolveBenchmark extends BenchmarkBase {
    private static final int ROUTES = 100_000;
    private static final int HOT = 1024;

    @Param({"near", "chronicle", "chm"})
    public String tier;

    @Param({"hit", "negative"})
    public String kind;

    private Path dir;
    private L1Store l1;
    private Resolver resolver;
    private final ConcurrentHashMap<String, RouteEntry> baseline = new ConcurrentHashMap<>();
    private RouteKeyProbe[] probes;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("tm-bench");
        l1 = L1Store.open(dir.resolve("routes.l1"), ROUTES * 2);
        long now = System.currentTimeMillis();
        for (int i = 0; i < ROUTES; i++) {
            String key = key(i);
            RouteEntry entry = i % 2 == 0
                    ? RouteEntry.found(key, "http://svc-" + i + ".team.svc:8080/api", true, 1, now)
                    : RouteEntry.absent(key, now);
            l1.apply(entry);
            baseline.put(key, entry);
        }
        RouteSource unused = new RouteSource() {
            @Override
            public CompletionStage<RouteEntry> fetch(String key) {
                return CompletableFuture.failedFuture(new IllegalStateException("the benchmark resolves from L1 only"));
            }

            @Override
            public void close() {
            }
        };
        ProxyConfig.Lookup settings = new ProxyConfig.Lookup(Duration.ofSeconds(1), Duration.ofHours(1),
                Duration.ofHours(1), 80, ProxyConfig.fromEnv(Map.of("TM_TENANT", "team")).lookup().breaker());
        resolver = new Resolver(l1, tier.equals("near") ? 10_000 : 0, RouteCache.NONE, unused, settings,
                new ProxyMetrics(), System::currentTimeMillis);
        probes = new RouteKeyProbe[HOT];
        int offset = kind.equals("hit") ? 0 : 1;
        for (int i = 0; i < HOT; i++) {
            int n = (i * 97 * 2 + offset) % ROUTES;
            probes[i] = new RouteKeyProbe().set("team-" + (n % 50), "service-" + n, "production", "v" + (n % 3));
        }
    }

    private static String key(int n) {
        return "team-" + (n % 50) + "/service-" + n + "/production/v" + (n % 3);
    }

    @Benchmark
    public Object resolve() {
        RouteKeyProbe probe = probes[next++ & (HOT - 1)];
        return tier.equals("chm") ? baseline.get(probe) : resolver.cached(probe);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        resolver.close();
        l1.close();
        try (var files = Files.list(dir)) {
            files.forEach(f -> f.toFile().delete());
        }
        Files.deleteIfExists(dir);
    }
}
