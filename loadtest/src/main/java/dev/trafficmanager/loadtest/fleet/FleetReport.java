package dev.trafficmanager.loadtest.fleet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The fleet run's report ({@code report.md}) and the data files its charts are drawn from. */
final class FleetReport {
    record Sample(FleetProcess process, long pssKib, double heapBytes, double kafkaBytesRead, Map<Integer, Integer> connections) {
        int to(int port) {
            return connections.getOrDefault(port, 0);
        }
    }

    private static final List<String> ROLES = List.of("agent", "node", "node-plain", "standalone", "standalone-all");
    private final Path out;
    private final Map<String, String> args;
    private final int kafkaPort;
    private final int redisPort;
    private final int postgresPort;
    private final int bouncerPort;
    private Map<FleetProcess, Double> ready;
    private long topicBytes;
    private List<Sample> atStart;
    private List<Sample> underLoad;
    private double[] changes;
    private AgentRestart.Outcome restart;
    private Load load;

    FleetReport(Path out, Map<String, String> args) {
        this.out = out;
        this.args = args;
        this.kafkaPort = Integer.parseInt(args.getOrDefault("--kafka-port", "59092"));
        this.redisPort = Integer.parseInt(args.getOrDefault("--redis-port", "56379"));
        this.postgresPort = Integer.parseInt(args.getOrDefault("--postgres-port", "55432"));
        this.bouncerPort = Integer.parseInt(args.getOrDefault("--pgbouncer-port", "56432"));
    }

    void readiness(Map<FleetProcess, Double> seconds) {
        this.ready = seconds;
    }

    void topicBytes(long bytes) {
        this.topicBytes = bytes;
    }

    void atStart(List<Sample> samples) {
        this.atStart = samples;
    }

    void underLoad(List<Sample> samples) {
        this.underLoad = samples;
    }

    void changes(double[] millis) {
        this.changes = millis.clone();
        Arrays.sort(changes);
    }

    void restart(AgentRestart.Outcome outcome) {
        this.restart = outcome;
    }

    void load(Load finished) {
        this.load = finished;
    }

    private static double median(List<Double> values) {
        if (values.isEmpty()) {
            return 0;
        }
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        return sorted.get((sorted.size() - 1) / 2);
    }

    private static double percentile(double[] sorted, double p) {
        return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100 * sorted.length) - 1)];
    }

    private Map<String, List<Sample>> byRole(List<Sample> samples) {
        Map<String, List<Sample>> grouped = new LinkedHashMap<>();
        for (String role : ROLES) {
            List<Sample> of = samples.stream().filter(s -> s.process().role().equals(role)).toList();
            if (!of.isEmpty()) {
                grouped.put(role, of);
            }
        }
        return grouped;
    }

    private static double med(List<Sample> samples, ToDoubleFunction<Sample> value) {
        return median(samples.stream().map(value::applyAsDouble).toList());
    }

    void write() throws IOException {
        StringBuilder md = new StringBuilder();
        StringBuilder pss = new StringBuilder("role\tstart_mib\tload_mib\n");
        StringBuilder conns = new StringBuilder("role\tkafka\tredis\tpostgres\tpgbouncer\n");
        md.append("# Fleet run: a node agent and sidecars in node mode beside standalone sidecars\n\n")
                .append(String.format(Locale.ROOT, "%s, by `make fleet` on this machine (2 cores, every process on it). "
                        + "%s routes over %s tenants on a topic of %s partitions; node sidecars serve %s tenant(s) of the "
                        + "agent's. Figures are medians over the processes of a role. Node sidecars run with `%s`%s.%n%n",
                        Instant.now(), args.get("--routes"), args.get("--tenants"), args.get("--partitions"),
                        args.get("--node-tenants"), args.getOrDefault("--node-flags", "").trim(),
                        atStart.stream().anyMatch(s -> s.process().role().equals("node-plain"))
                                ? "; every other one (node-plain) without, side by side" : ""));
        md.append("## Per process, by role\n\n| role | processes | ready after (s, median / max) | PSS at start (MiB) "
                + "| PSS under load (MiB) | heap used (MiB) | bytes read from Kafka at start | share of the topic "
                + "| TCP to Kafka | to Redis | to PostgreSQL | to PgBouncer |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        Map<String, List<Sample>> start = byRole(atStart);
        Map<String, List<Sample>> loaded = byRole(underLoad);
        for (Map.Entry<String, List<Sample>> role : start.entrySet()) {
            List<Sample> s = role.getValue();
            List<Sample> l = loaded.getOrDefault(role.getKey(), List.of());
            List<Double> readyTimes = s.stream().map(x -> ready.getOrDefault(x.process(), -1.0)).toList();
            double bytes = med(s, Sample::kafkaBytesRead);
            md.append(String.format(Locale.ROOT, "| %s | %d | %.1f / %.1f | %.1f | %.1f | %.1f | %,.0f | %.2f %% | %.0f | %.0f | %.0f | %.0f |%n",
                    role.getKey(), s.size(), median(readyTimes), readyTimes.stream().mapToDouble(d -> d).max().orElse(0),
                    med(s, x -> x.pssKib() / 1024.0), med(l, x -> x.pssKib() / 1024.0), med(s, x -> x.heapBytes() / 1048576.0),
                    bytes, topicBytes == 0 ? 0 : 100.0 * bytes / topicBytes, med(l, x -> x.to(kafkaPort)),
                    med(l, x -> x.to(redisPort)), med(l, x -> x.to(postgresPort)), med(l, x -> x.to(bouncerPort))));
            pss.append(String.format(Locale.ROOT, "%s\t%.1f\t%.1f%n", role.getKey(), med(s, x -> x.pssKib() / 1024.0),
                    med(l, x -> x.pssKib() / 1024.0)));
            conns.append(String.format(Locale.ROOT, "%s\t%.0f\t%.0f\t%.0f\t%.0f%n", role.getKey(), med(l, x -> x.to(kafkaPort)),
                    med(l, x -> x.to(redisPort)), med(l, x -> x.to(postgresPort)), med(l, x -> x.to(bouncerPort))));
        }
        md.append(String.format(Locale.ROOT, "%nThe topic holds %,d bytes of records (keys and values). Connections are "
                + "counted under load with `ss -tnp`; a lookup pool keeps no idle connection, so PostgreSQL and PgBouncer "
                + "figures are what was open at that moment.%n%n![PSS by role](pss.png)%n%n![Connections by role](connections.png)%n%n", topicBytes));
        writeChanges(md);
        writeRestart(md);
        writeExtrapolation(md, start, loaded);
        Files.writeString(out.resolve("report.md"), md);
        Files.writeString(out.resolve("pss.tsv"), pss);
        Files.writeString(out.resolve("connections.tsv"), conns);
        StringBuilder cdf = new StringBuilder("ms\tshare\n");
        for (int i = 0; i < changes.length; i++) {
            cdf.append(String.format(Locale.ROOT, "%.2f\t%.4f%n", changes[i], (i + 1.0) / changes.length));
        }
        Files.writeString(out.resolve("propagation.tsv"), cdf);
    }

    private void writeChanges(StringBuilder md) {
        long warmupEnd = load.marks.stream().filter(m -> m.what().equals("changes start")).findFirst().orElseThrow().atMillis();
        long changesEnd = load.marks.stream().filter(m -> m.what().equals("changes done")).findFirst().orElseThrow().atMillis();
        long late = Arrays.stream(changes).filter(ms -> ms >= 10_000).count();
        long nodes = atStart.stream().filter(s -> s.process().role().startsWith("node")).count();
        long tenants = atStart.stream().filter(s -> s.process().role().startsWith("node")).map(s -> s.process().tenant()).distinct().count();
        md.append(String.format(Locale.ROOT, "## Route changes under load%n%n%d changes through the control API, one after "
                + "the other, while %d requests a second went through the node sidecars. Each is timed from its PUT until "
                + "every one of the %d node sidecars of its tenant (%d sidecars over %d tenant(s)) served the new revision "
                + "(their admin port's resolve, which runs the request path's lookup).%n%n| p50 | p99 | max | later than 10 s |%n"
                + "|---|---|---|---|%n| %.1f ms | %.1f ms | %.1f ms | %d |%n%n![Propagation](propagation.png)%n%n",
                changes.length, load.rate(), nodes / Math.max(1, tenants), nodes, tenants, percentile(changes, 50),
                percentile(changes, 99), percentile(changes, 100), late));
        md.append(String.format(Locale.ROOT, "Errors on the load's requests (known routes): %d during the warm-up before "
                + "the changes (every sidecar compiling its request path at once), %d while the changes ran.%n%n",
                load.errorsBetween(0, warmupEnd), load.errorsBetween(warmupEnd, changesEnd)));
        if (!Fleet.POLL_ERRORS.isEmpty()) {
            md.append(String.format(Locale.ROOT, "%d of the measurement's own requests (resolve polls, PUTs that could not connect) failed and were sent again; the first: `%s`%n%n", Fleet.POLL_ERRORS.size(),
                    Fleet.POLL_ERRORS.peek()));
        }
    }

    private void writeRestart(StringBuilder md) {
        md.append(String.format(Locale.ROOT, "## Node agent restart under load%n%nThe agent was stopped (SIGTERM: %.1f s to "
                + "exit) and started again (ready, caught up with its partitions, after %.1f s). From the stop until 5 s "
                + "after it was ready: **%d errors** in %d requests on known routes; the node sidecars served %.0f requests "
                + "from entries no tier could confirm meanwhile (stale-if-error, counted). Errors over the whole run: %d of "
                + "%d requests.%s%n%n", restart.stoppedSeconds(), restart.readySeconds(), restart.errors(), restart.requests(),
                restart.staleServes(), load.errors.size(), load.sent(),
                restart.firstErrors().isEmpty() ? "" : " First errors: " + String.join("; ", restart.firstErrors())));
        if (!load.errors.isEmpty()) {
            long started = load.marks.get(0).atMillis();
            Map<String, long[]> kinds = new LinkedHashMap<>(); // kind -> {count, first second}
            for (Load.Event e : load.errors) {
                String kind = e.what().replaceFirst("^\\S+ \\S+: ", "");
                kinds.computeIfAbsent(kind, k -> new long[] {0, (e.atMillis() - started) / 1000})[0]++;
            }
            md.append("Errors by kind (count, first seen at second N of the load):\n\n");
            kinds.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0])).limit(8)
                    .forEach(k -> md.append(String.format(Locale.ROOT, "- %d × `%s` (from s %d)%n", k.getValue()[0],
                            k.getKey().length() > 160 ? k.getKey().substring(0, 160) : k.getKey(), k.getValue()[1])));
            md.append("\nPhases (second of the load): ");
            load.marks.forEach(m -> md.append(String.format(Locale.ROOT, "%s at %d; ", m.what(), (m.atMillis() - started) / 1000)));
            md.append("\n\n");
        }
    }

    private void writeExtrapolation(StringBuilder md, Map<String, List<Sample>> start, Map<String, List<Sample>> loaded) {
        List<Sample> standalone = loaded.getOrDefault("standalone", List.of());
        List<Sample> agent = loaded.getOrDefault("agent", List.of());
        double kS = med(standalone, s -> s.to(kafkaPort));
        double kA = med(agent, s -> s.to(kafkaPort));
        double rS = med(standalone, s -> s.to(redisPort));
        double rA = med(agent, s -> s.to(redisPort));
        double bS = med(start.getOrDefault("standalone", List.of()), Sample::kafkaBytesRead);
        double bA = med(start.getOrDefault("agent", List.of()), Sample::kafkaBytesRead);
        int pool = Integer.parseInt(args.getOrDefault("--db-pool", "4"));
        md.append(String.format(Locale.ROOT, "## At fleet size, extrapolated from the per-client figures above%n%n20 sidecars "
                + "a node. Per standalone sidecar: %.0f broker connection(s), one fetch session, %.0f Redis connection(s), up to "
                + "%d database connections while looking up (none idle), %,.0f bytes read at start. Per node agent: %.0f, one, "
                + "%.0f, up to %d, %,.0f bytes (its tenants' partitions; a node's agent serves the tenants of the node's "
                + "pods). Node sidecars: none of any.%n%n| sidecars | nodes | broker connections | fetch sessions (the "
                + "broker caches 1,000 by default) | Redis connections | database connections, peak | bytes read at a fleet "
                + "restart |%n|---|---|---|---|---|---|---|%n", kS, rS, pool, bS, kA, rA, pool, bA));
        for (int sidecars : new int[] {1_000, 10_000, 50_000}) {
            int nodes = sidecars / 20;
            md.append(String.format(Locale.ROOT, "| %,d | %,d | %,.0f → %,.0f | %,d → %,d | %,.0f → %,.0f | %,d → %,d | %s → %s |%n",
                    sidecars, nodes, sidecars * kS, nodes * kA, sidecars, nodes, sidecars * rS, nodes * rA, sidecars * pool,
                    nodes * pool, bytes(sidecars * bS), bytes(nodes * bA)));
        }
        md.append("\nEach cell: standalone → node mode. Through PgBouncer the database side stays at its pool size "
                + "(`default_pool_size`) whatever the number of clients.\n");
    }

    private static String bytes(double b) {
        return b >= 1e9 ? String.format(Locale.ROOT, "%.1f GB", b / 1e9) : String.format(Locale.ROOT, "%.1f MB", b / 1e6);
    }
}
