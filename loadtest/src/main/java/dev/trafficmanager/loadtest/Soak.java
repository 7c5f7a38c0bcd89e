package dev.trafficmanager.loadtest;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The soak run behind {@code make soak}: a steady open-model load through a running sidecar for
 * {@code --seconds}, a route change through the control API every second, and one fault a minute
 * in turn (Redis stopped, PostgreSQL hung, Kafka stopped, an upstream stopped), each lasting
 * {@code --fault-seconds}. Afterwards it checks that every acknowledged change reached the
 * sidecar, and writes {@code report.md} and {@code memory.tsv} (heap and RSS every 5 s) to
 * {@code --out}.
 *
 * <p>It serves two upstreams itself: {@code known}, behind the loaded route and never faulted (its
 * errors must be 0), and {@code faulty}, behind a second, light load, which the upstream fault
 * stops and starts again on the same port.
 */
public final class Soak {
    private static final String[] FAULTS = {"redis", "postgres", "kafka", "upstream"};
    private static final int CHANGING_ROUTES = 10;

    private final Args given;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();
    private final String api;
    private final String token;
    private final String tenant;
    private final String admin;
    private final Path stack;
    private final Path out;
    private final ExecutorService upstreamThreads = Executors.newFixedThreadPool(4);
    private final List<String> timeline = new ArrayList<>();
    private final long startNanos = System.nanoTime();
    private HttpServer known;
    private volatile HttpServer faulty;
    private int faultyPort;

    private Soak(String[] args) {
        given = new Args(args, "--api URL --token T --tenant T --sidecar URL --admin URL --sidecar-pid PID "
                + "--sidecar-log FILE --stack FILE --out DIR [--seconds 600] [--rate 500] [--fault-every 60] [--fault-seconds 15]");
        api = given.require("--api");
        token = given.require("--token");
        tenant = given.require("--tenant");
        admin = given.require("--admin");
        stack = Path.of(given.require("--stack"));
        out = Path.of(given.require("--out"));
    }

    public static void main(String[] args) throws Exception {
        // Without it the JDK's server writes head and body with Nagle on and every response waits
        // for a delayed ACK: 40 ms each, 350 req/s over 16 connections.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        new Soak(args).run();
    }

    private void run() throws Exception {
        int seconds = Integer.parseInt(given.get("--seconds", "600"));
        int rate = Integer.parseInt(given.get("--rate", "500"));
        int faultEvery = Integer.parseInt(given.get("--fault-every", "60"));
        int faultSeconds = Integer.parseInt(given.get("--fault-seconds", "15"));
        long sidecarPid = Long.parseLong(given.require("--sidecar-pid"));
        URI sidecar = URI.create(given.require("--sidecar"));
        Files.createDirectories(out);

        known = serve(0, "known");
        faulty = serve(0, "faulty");
        faultyPort = faulty.getAddress().getPort();
        put("known", "http://127.0.0.1:" + known.getAddress().getPort() + "/");
        put("faulty", "http://127.0.0.1:" + faultyPort + "/");
        List<List<Long>> revisions = new ArrayList<>();
        for (int i = 0; i < CHANGING_ROUTES; i++) {
            put("changing-" + i, "http://127.0.0.1:" + known.getAddress().getPort() + "/c0/");
            revisions.add(new ArrayList<>());
        }
        awaitServed(sidecar, "known");
        awaitServed(sidecar, "faulty");
        note("routes served; load starts: " + rate + " req/s to known, 20 req/s to faulty, one change a second");

        ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(3);
        AtomicInteger changes = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        ConcurrentLinkedQueue<String> changeFailures = new ConcurrentLinkedQueue<>();
        scheduler.scheduleWithFixedDelay(() -> {
            int n = changes.incrementAndGet();
            int route = n % CHANGING_ROUTES;
            try {
                HttpResponse<String> response = put("changing-" + route,
                        "http://127.0.0.1:" + known.getAddress().getPort() + "/c" + n + "/");
                if (response.statusCode() / 100 == 2) {
                    synchronized (revisions) {
                        revisions.get(route).add(PropagationProbe.revision(response.body()));
                    }
                } else {
                    refused.incrementAndGet(); // not acknowledged: the caller knows it did not happen
                    changeFailures.add(elapsed() + " " + response.statusCode() + " " + response.body());
                }
            } catch (Exception e) {
                refused.incrementAndGet();
                changeFailures.add(elapsed() + " " + e);
            }
        }, 1, 1, TimeUnit.SECONDS);

        try (PrintWriter memory = new PrintWriter(Files.newBufferedWriter(out.resolve("memory.tsv")))) {
            memory.println("seconds\theap_mib\trss_mib");
            scheduler.scheduleAtFixedRate(() -> {
                try {
                    memory.printf("%d\t%.1f\t%.1f%n", elapsedSeconds(), heapMib(), rssMib(sidecarPid));
                    memory.flush();
                } catch (Exception e) {
                    note("cannot sample the sidecar's memory: " + e);
                }
            }, 0, 5, TimeUnit.SECONDS);

            CompletableFuture<OpenLoad.Result> loadKnown = CompletableFuture.supplyAsync(() -> load(sidecar, "known", rate, 16, seconds));
            CompletableFuture<OpenLoad.Result> loadFaulty = CompletableFuture.supplyAsync(() -> load(sidecar, "faulty", 20, 4, seconds));
            injectFaults(seconds, faultEvery, faultSeconds);
            OpenLoad.Result knownResult = loadKnown.get(seconds + 120L, TimeUnit.SECONDS);
            OpenLoad.Result faultyResult = loadFaulty.get(seconds + 120L, TimeUnit.SECONDS);
            scheduler.shutdown();
            scheduler.awaitTermination(30, TimeUnit.SECONDS);
            note("load over: known " + knownResult.summary() + "; faulty " + faultyResult.summary());

            long[] last = new long[CHANGING_ROUTES];
            for (int i = 0; i < CHANGING_ROUTES; i++) {
                List<Long> list = revisions.get(i);
                last[i] = list.isEmpty() ? 1 : list.get(list.size() - 1);
            }
            long[] seen = awaitChanges(last, Duration.ofSeconds(90));
            int lost = 0;
            int acknowledged = 0;
            for (int i = 0; i < CHANGING_ROUTES; i++) {
                for (long revision : revisions.get(i)) {
                    acknowledged++;
                    if (revision > seen[i]) {
                        lost++;
                    }
                }
            }
            writeReport(seconds, rate, faultSeconds, knownResult, faultyResult, changes.get(), acknowledged, refused.get(),
                    lost, changeFailures, sidecarPid);
        } finally {
            scheduler.shutdownNow();
            known.stop(0);
            faulty.stop(0);
            upstreamThreads.shutdownNow();
        }
    }

    private OpenLoad.Result load(URI sidecar, String service, int rate, int connections, int seconds) {
        try {
            return OpenLoad.run(new OpenLoad.Options(sidecar.getHost(), sidecar.getPort(), "/",
                    Map.of("x-tm-service", "soak-" + service, "x-tm-version", "v1"), rate, Duration.ZERO,
                    Duration.ofSeconds(seconds), connections));
        } catch (Exception e) {
            throw new IllegalStateException("load on " + service + " failed", e);
        }
    }

    /** One fault every {@code every} seconds from {@code every/2} on, each ended before the load ends. */
    private void injectFaults(int seconds, int every, int length) throws Exception {
        long begin = System.nanoTime();
        for (int k = 0; ; k++) {
            long at = TimeUnit.SECONDS.toNanos(every / 2 + (long) k * every);
            if (at + TimeUnit.SECONDS.toNanos(length + 15) > TimeUnit.SECONDS.toNanos(seconds)) {
                return;
            }
            long wait = begin + at - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            String fault = FAULTS[k % FAULTS.length];
            note("fault " + (k + 1) + ": " + describe(fault) + " for " + length + " s");
            switch (fault) {
                case "redis" -> stack("stop", "redis");
                case "postgres" -> stack("pause", "postgres");
                case "kafka" -> stack("stop", "kafka");
                default -> faulty.stop(0);
            }
            TimeUnit.SECONDS.sleep(length);
            switch (fault) {
                case "redis" -> stack("start", "redis");
                case "postgres" -> stack("resume", "postgres");
                case "kafka" -> stack("start", "kafka");
                default -> faulty = serve(faultyPort, "faulty");
            }
            note("fault " + (k + 1) + " over: " + fault + " back");
        }
    }

    private static String describe(String fault) {
        return switch (fault) {
            case "redis" -> "Redis stopped";
            case "postgres" -> "PostgreSQL hung (SIGSTOP)";
            case "kafka" -> "Kafka stopped";
            default -> "the faulty upstream stopped";
        };
    }

    private void stack(String command, String service) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("bash", stack.toString(), command, service).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out.resolve("stack.log").toFile())).start();
        if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
            throw new IllegalStateException("dev/stack.sh " + command + " " + service + " failed; see stack.log");
        }
    }

    /** An upstream answering 200 with a short body; on {@code port}, retrying while the old socket lingers. */
    private HttpServer serve(int port, String name) throws IOException, InterruptedException {
        byte[] body = ("soak " + name + "\n").getBytes(StandardCharsets.US_ASCII);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 256);
                server.createContext("/", exchange -> {
                    exchange.getRequestBody().readAllBytes();
                    exchange.sendResponseHeaders(200, body.length);
                    exchange.getResponseBody().write(body);
                    exchange.close();
                });
                server.setExecutor(upstreamThreads);
                server.start();
                return server;
            } catch (BindException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                TimeUnit.MILLISECONDS.sleep(100);
            }
        }
    }

    private HttpResponse<String> put(String service, String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(api + "/v1/routes/" + tenant + "/soak-" + service + "/prod/v1"))
                .timeout(Duration.ofSeconds(15)).header("Authorization", "Bearer " + token)
                .PUT(HttpRequest.BodyPublishers.ofString("{\"url\":\"" + url + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
    }

    private void awaitServed(URI sidecar, String service) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(sidecar).header("x-tm-service", "soak-" + service)
                .header("x-tm-version", "v1").timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() != 200) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the sidecar does not serve soak-" + service + " within 30 s");
            }
            TimeUnit.MILLISECONDS.sleep(100);
        }
    }

    /** The sidecar's revision of each changing route once it has every last one, or when {@code within} is over. */
    private long[] awaitChanges(long[] last, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        long[] seen = new long[last.length];
        while (true) {
            boolean all = true;
            for (int i = 0; i < last.length; i++) {
                seen[i] = PropagationProbe.revision(http.send(HttpRequest.newBuilder(URI.create(admin + "/admin/resolve?tenant=" + tenant
                        + "&service=soak-changing-" + i + "&env=prod&version=v1")).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
                all &= seen[i] >= last[i];
            }
            if (all || System.nanoTime() > deadline) {
                note(all ? "every acknowledged change is in the sidecar" : "changes still missing after " + within);
                return seen;
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
    }

    private double heapMib() throws Exception {
        double bytes = 0;
        for (String line : metrics().split("\n")) {
            if (line.startsWith("jvm_memory_used_bytes{area=\"heap\"")) {
                bytes += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return bytes / (1 << 20);
    }

    private static double rssMib(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
            }
        }
        return Double.NaN;
    }

    private String metrics() throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(admin + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private long elapsedSeconds() {
        return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startNanos);
    }

    private String elapsed() {
        return String.format("%4d s", elapsedSeconds());
    }

    private synchronized void note(String text) {
        String line = elapsed() + "  " + text;
        timeline.add(line);
        System.out.println(line);
    }

    private void writeReport(int seconds, int rate, int faultSeconds, OpenLoad.Result known, OpenLoad.Result faulty,
                             int changes, int acknowledged, int refused, int lost, Iterable<String> changeFailures,
                             long sidecarPid) throws Exception {
        List<String> memory = Files.readAllLines(out.resolve("memory.tsv"));
        double heapMax = 0;
        double rssMax = 0;
        double rssFirst = Double.NaN;
        double rssLast = Double.NaN;
        for (String line : memory.subList(1, memory.size())) {
            String[] f = line.split("\t");
            heapMax = Math.max(heapMax, Double.parseDouble(f[1]));
            double rss = Double.parseDouble(f[2]);
            rssMax = Math.max(rssMax, rss);
            rssFirst = Double.isNaN(rssFirst) ? rss : rssFirst;
            rssLast = rss;
        }
        long leaks = Files.readAllLines(Path.of(given.require("--sidecar-log"))).stream()
                .filter(line -> line.contains("LEAK:")).count();
        StringBuilder md = new StringBuilder();
        md.append("# Soak run\n\n");
        md.append(String.format("%s, `make soak` on this machine: %d s at %d req/s through the sidecar (leak detector at "
                + "paranoid), a route change every second, a fault every minute lasting %d s.%n%n", Instant.now(), seconds,
                rate, faultSeconds));
        md.append("| | result | expected |\n|---|---|---|\n");
        md.append(String.format("| requests to the known route | %,d, **%d errors**, %d unsent; p50 %.1f ms, p99 %.1f ms, max %.1f ms | 0 errors |%n",
                known.completed(), known.errors(), known.unsent(), ms(known, 50), ms(known, 99), known.latencyMicros().getMaxValue() / 1000.0));
        md.append(String.format("| route changes | %d made, %d acknowledged, %d refused while PostgreSQL was hung (503, never acknowledged), **%d lost** | 0 lost |%n",
                changes, acknowledged, refused, lost));
        md.append(String.format("| leak reports in the sidecar's log | **%d** | none |%n", leaks));
        md.append(String.format("| sidecar heap (of 64 MiB) | at most %.1f MiB | flat |%n", heapMax));
        md.append(String.format("| sidecar RSS | first %.0f MiB, last %.0f MiB, at most %.0f MiB | flat |%n", rssFirst, rssLast, rssMax));
        md.append(String.format("| requests to the faulty upstream's route (20 req/s) | %,d, %d errors (during its stop: 502, then 503 `upstream_circuit_open`) | errors only while it is down |%n",
                faulty.completed(), faulty.errors()));
        md.append("\n![heap and RSS](memory.png)\n\n## Timeline\n\n```\n");
        timeline.forEach(line -> md.append(line).append('\n'));
        md.append("```\n\n## Sidecar counters at the end\n\n```\n");
        for (String line : metrics().split("\n")) {
            if (line.startsWith("tm_circuit_breaker_transitions_total") && !line.endsWith(" 0.0")
                    || line.startsWith("tm_route_stale_serves_total") || line.startsWith("tm_upstream_retries_total")
                    || line.startsWith("tm_route_lookup_unavailable_total") || line.startsWith("tm_proxy_requests_total")
                    || line.startsWith("tm_kafka_events_applied_total") || line.startsWith("tm_circuit_breaker_rejections_total")) {
                md.append(line).append('\n');
            }
        }
        md.append("```\n");
        boolean first = true;
        for (String failure : changeFailures) {
            if (first) {
                md.append("\n## Changes not acknowledged\n\n```\n");
                first = false;
            }
            md.append(failure.length() > 200 ? failure.substring(0, 200) + "..." : failure).append('\n');
        }
        if (!first) {
            md.append("```\n");
        }
        Files.writeString(out.resolve("report.md"), md.toString());
        note("report written: known errors " + known.errors() + ", lost " + lost + ", leaks " + leaks + ", sidecar pid " + sidecarPid);
    }

    private static double ms(OpenLoad.Result result, double percentile) {
        return result.latencyMicros().getValueAtPercentile(percentile) / 1000.0;
    }
}
