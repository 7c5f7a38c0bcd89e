package dev.trafficmanager.loadtest.fleet;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The measuring half of {@code make fleet} ({@code loadtest/fleet.sh} starts the processes): waits
 * for every process to be ready, reads PSS, heap, connections and bytes read at start, then under a
 * steady load through the node sidecars makes {@code --changes} route changes one after the other,
 * timing each from its PUT until every node sidecar of the route's tenant serves the new revision
 * (their admin port's resolve: the first sidecar polled every 2 ms until it serves it, then all the
 * others at once, and again every 2 ms those that do not yet), restarts the agent under load and counts errors,
 * and writes the report ({@link FleetReport}). Loopback only; every wait has a deadline.
 */
public final class Fleet {
    private static final Pattern REVISION = Pattern.compile("\"revision\"\\s*:\\s*(\\d+)");
    private static final long CHANGE_DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** Resolve polls that failed (a timeout, a refused connection), kept for the report. */
    static final java.util.Queue<String> POLL_ERRORS = new java.util.concurrent.ConcurrentLinkedQueue<>();

    private Fleet() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i], args[i + 1]);
        }
        Path out = Path.of(a.get("--out"));
        Files.createDirectories(out);
        List<FleetProcess> processes = FleetProcess.read(Path.of(a.get("--processes")));
        FleetReport report = new FleetReport(out, a);
        Probes probes = new Probes();

        report.readiness(awaitReady(probes, processes, Duration.ofMinutes(Long.parseLong(a.getOrDefault("--ready-minutes", "15")))));
        report.topicBytes(TopicBytes.total(a.get("--topic")));
        report.atStart(sample(probes, processes));

        List<FleetProcess> nodes = processes.stream().filter(p -> p.role().startsWith("node")).toList();
        Load load = new Load(probes.http(), nodes, Integer.parseInt(a.get("--routes-per-tenant")),
                Integer.parseInt(a.getOrDefault("--rate", "200")));
        load.start();
        try {
            // Every sidecar compiles its request path at once when the load starts: on a small machine
            // that storm is the run's worst minute, and it is not what a change under load meets.
            Thread.sleep(Long.parseLong(a.getOrDefault("--warmup-seconds", "45")) * 1000);
            load.mark("changes start");
            report.changes(changes(probes, nodes, a));
            load.mark("changes done");
            report.underLoad(sample(probes, processes));
            load.mark("before the agent restart");
            report.restart(AgentRestart.run(probes, processes, Path.of(a.get("--agent-cmd")), load));
        } finally {
            load.stop();
        }
        report.load(load);
        report.write();
    }

    /** Seconds from each process's start until its /readyz answered 200. */
    private static Map<FleetProcess, Double> awaitReady(Probes probes, List<FleetProcess> processes, Duration limit)
            throws InterruptedException {
        Map<FleetProcess, Double> ready = new HashMap<>();
        long deadline = System.nanoTime() + limit.toNanos();
        while (ready.size() < processes.size()) {
            for (FleetProcess p : processes) {
                if (!ready.containsKey(p) && probes.ok(p.admin() + "/readyz")) {
                    ready.put(p, (System.currentTimeMillis() - p.startedAt()) / 1000.0);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException((processes.size() - ready.size()) + " processes not ready after " + limit);
            }
            Thread.sleep(100);
        }
        return ready;
    }

    /** One reading per process: PSS, heap used, bytes read from Kafka, connections by peer port. */
    static List<FleetReport.Sample> sample(Probes probes, List<FleetProcess> processes) throws Exception {
        Map<Long, Map<Integer, Integer>> connections = Probes.connectionsByPid();
        List<FleetReport.Sample> samples = new ArrayList<>();
        for (FleetProcess p : processes) {
            String metrics = probes.get(p.admin() + "/metrics");
            samples.add(new FleetReport.Sample(p, Probes.pssKib(p.pid()),
                    Probes.meter(metrics, "jvm_memory_used_bytes", "area=\"heap\""),
                    Probes.meter(metrics, "tm_kafka_bytes_read_total", null),
                    connections.getOrDefault(p.pid(), Map.of())));
        }
        return samples;
    }

    /** Route changes one after the other; each one's milliseconds until the last sidecar of its tenant served it. */
    private static double[] changes(Probes probes, List<FleetProcess> nodes, Map<String, String> a) throws Exception {
        int changes = Integer.parseInt(a.getOrDefault("--changes", "1000"));
        int routes = Integer.parseInt(a.get("--routes-per-tenant"));
        List<String> tenants = nodes.stream().map(FleetProcess::tenant).distinct().sorted().toList();
        double[] millis = new double[changes];
        for (int i = 0; i < changes; i++) {
            String tenant = tenants.get(i % tenants.size());
            String service = "svc-" + (i % routes);
            long start = System.nanoTime();
            HttpRequest request = HttpRequest.newBuilder(URI.create(a.get("--api") + "/v1/routes/" + tenant + "/" + service
                            + "/prod/v1")).timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + a.get("--token"))
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"url\":\"" + a.get("--upstream") + "/c/" + i + "\"}")).build();
            HttpResponse<String> put = put(probes, request);
            if (put.statusCode() / 100 != 2) {
                throw new IllegalStateException("PUT " + tenant + "/" + service + " answered " + put.statusCode() + ": " + put.body());
            }
            long revision = revision(put.body());
            List<String> resolves = nodes.stream().filter(node -> node.tenant().equals(tenant))
                    .map(node -> node.admin() + "/admin/resolve?tenant=" + tenant + "&service=" + service + "&env=prod&version=v1")
                    .toList();
            // Polling every sidecar every millisecond would load the machine more than the change does.
            long last = poll(probes, resolves.get(0), revision, start).get();
            List<CompletableFuture<Long>> seen = new ArrayList<>();
            for (String resolve : resolves.subList(1, resolves.size())) {
                seen.add(poll(probes, resolve, revision, start));
            }
            for (CompletableFuture<Long> one : seen) {
                last = Math.max(last, one.get());
            }
            millis[i] = last / 1e6;
        }
        return millis;
    }

    /** The PUT, sent again (it is idempotent) when a saturated machine let its connect time out; at most 5 tries. */
    private static HttpResponse<String> put(Probes probes, HttpRequest request) throws IOException, InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return probes.http().send(request, HttpResponse.BodyHandlers.ofString());
            } catch (java.net.http.HttpConnectTimeoutException e) {
                if (attempt == 5) {
                    throw e;
                }
                POLL_ERRORS.add(System.currentTimeMillis() + " PUT " + request.uri() + ": " + e);
            }
        }
    }

    /** Polls {@code url} until its revision reaches {@code revision}; completes with nanoseconds since {@code start}. */
    private static CompletableFuture<Long> poll(Probes probes, String url, long revision, long start) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build();
        return probes.http().sendAsync(request, HttpResponse.BodyHandlers.ofString()).handle((response, error) -> {
            if (error != null) {
                POLL_ERRORS.add(System.currentTimeMillis() + " " + url + ": " + error);
            }
            return error == null ? response.body() : "";
        }).thenCompose(body -> {
            long now = System.nanoTime();
            if (revision(body) >= revision) {
                return CompletableFuture.completedFuture(now - start);
            }
            if (now - start > CHANGE_DEADLINE_NANOS) {
                return CompletableFuture.completedFuture(now - start); // reported as late: the max shows it
            }
            return CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(2, TimeUnit.MILLISECONDS))
                    .thenCompose(ignored -> poll(probes, url, revision, start));
        });
    }

    static long revision(String body) {
        Matcher m = REVISION.matcher(body);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static void require(boolean condition, String message) throws IOException {
        if (!condition) {
            throw new IOException(message);
        }
    }
}
