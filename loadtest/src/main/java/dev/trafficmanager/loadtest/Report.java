package dev.trafficmanager.loadtest;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Turns the files {@code loadtest/compare.sh} measured (saturation.tsv, latency.tsv,
 * sidecar-memory.tsv, run.properties) into {@code report.md} and two charts drawn by gnuplot
 * ({@code throughput.png}, {@code latency.png}), and copies the measurements next to them.
 *
 * <p>{@code Report RUN_DIR OUT_DIR}
 */
public final class Report {
    static final List<String> TARGETS = List.of("direct", "sidecar", "nginx", "haproxy");
    static final List<String> PROXIES = List.of("sidecar", "nginx", "haproxy");

    private Report() {
    }

    /** A tab-separated file with a header line: one map per row, by column name. */
    static List<Map<String, String>> readTsv(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        String[] header = lines.get(0).split("\t");
        List<Map<String, String>> rows = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            String[] cells = line.split("\t", -1);
            Map<String, String> row = new LinkedHashMap<>();
            for (int i = 0; i < header.length; i++) {
                row.put(header[i], i < cells.length ? cells[i] : "");
            }
            rows.add(row);
        }
        return rows;
    }

    static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** Per target, the median over its saturation rounds of one figure. */
    static Map<String, Double> medianByTarget(List<Map<String, String>> rows, ToDoubleFunction<Map<String, String>> figure) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String target : TARGETS) {
            out.put(target, median(rows.stream().filter(r -> r.get("target").equals(target)).map(figure::applyAsDouble).toList()));
        }
        return out;
    }

    /** A memory row's PSS; NaN in the runs from before it was measured. */
    static double pss(Map<String, String> row) {
        return row.containsKey("pss_mib") ? num(row, "pss_mib") : Double.NaN;
    }

    private static void saturationTable(StringBuilder md, String connections, String rounds, List<Map<String, String>> rows,
                                        Map<String, Double> rps, Map<String, Double> cpuPer10k) {
        md.append("## Saturation at ").append(connections).append(" connections (wrk -t1, closed model, ").append(rounds).append(" rounds)\n\n");
        md.append("| target | req/s (median) | rounds | vs direct | p50 | p99 | proxy CPU s per 10k req | CPU per request vs nginx |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        for (String target : TARGETS) {
            List<Map<String, String>> mine = rows.stream().filter(r -> r.get("target").equals(target)).toList();
            boolean direct = target.equals("direct");
            md.append(String.format(Locale.ROOT, "| %s | %,.0f | %s | %.2f× | %.2f ms | %.2f ms | %s | %s |%n", target, rps.get(target),
                    String.join(" / ", mine.stream().map(r -> String.format(Locale.ROOT, "%,.0f", num(r, "rps"))).toList()),
                    rps.get(target) / rps.get("direct"),
                    median(mine.stream().map(r -> num(r, "p50_ms")).toList()), median(mine.stream().map(r -> num(r, "p99_ms")).toList()),
                    direct ? "–" : String.format(Locale.ROOT, "%.3f", cpuPer10k.get(target)),
                    direct ? "–" : String.format(Locale.ROOT, "%.2f×", cpuPer10k.get(target) / cpuPer10k.get("nginx"))));
        }
        md.append('\n');
    }

    private static void throughputTargets(StringBuilder md, String connections, Map<String, Double> rps, Map<String, Double> cpuPer10k) {
        String at = " (" + connections + " connections)";
        target(md, "sidecar throughput ≥ nginx's" + at, String.format(Locale.ROOT, "%,.0f vs %,.0f req/s (%.2f×)", rps.get("sidecar"),
                rps.get("nginx"), rps.get("sidecar") / rps.get("nginx")), rps.get("sidecar") >= rps.get("nginx"));
        target(md, "sidecar throughput ≥ HAProxy's" + at, String.format(Locale.ROOT, "%,.0f vs %,.0f req/s (%.2f×)", rps.get("sidecar"),
                rps.get("haproxy"), rps.get("sidecar") / rps.get("haproxy")), rps.get("sidecar") >= rps.get("haproxy"));
        target(md, "sidecar CPU per request ≤ nginx's" + at, String.format(Locale.ROOT, "%.3f vs %.3f CPU s per 10k (%.2f×)",
                cpuPer10k.get("sidecar"), cpuPer10k.get("nginx"), cpuPer10k.get("sidecar") / cpuPer10k.get("nginx")),
                cpuPer10k.get("sidecar") <= cpuPer10k.get("nginx"));
    }

    static double num(Map<String, String> row, String column) {
        return Double.parseDouble(row.get(column));
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: Report RUN_DIR OUT_DIR");
        }
        write(Path.of(args[0]), Path.of(args[1]), true);
    }

    /** Writes report.md (and with {@code charts}, the PNG charts) to {@code out} from the measurements in {@code run}. */
    static void write(Path run, Path out, boolean charts) throws Exception {
        Files.createDirectories(out);
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(run.resolve("run.properties"))) {
            props.load(reader);
        }
        List<Map<String, String>> saturation = readTsv(run.resolve("saturation.tsv"));
        List<Map<String, String>> latency = readTsv(run.resolve("latency.tsv"));
        List<Map<String, String>> memory = readTsv(run.resolve("sidecar-memory.tsv"));
        long seconds = Long.parseLong(props.getProperty("seconds"));

        Map<String, Double> rps = medianByTarget(saturation, r -> num(r, "rps"));
        Map<String, Double> cpuPer10k = medianByTarget(saturation, r -> num(r, "cpu_s") / num(r, "requests") * 10_000);
        StringBuilder md = new StringBuilder();
        md.append("# Load comparison: sidecar, nginx, HAProxy and a direct connection\n\n");
        md.append("Written by `make loadtest` (`loadtest/compare.sh`) on ").append(props.getProperty("date")).append(".\n\n");
        md.append("- Machine: ").append(props.getProperty("machine")).append("; ").append(props.getProperty("cpu")).append('\n');
        md.append("- ").append(props.getProperty("versions")).append("; the sidecar at `-Xmx").append(props.getProperty("sidecar_heap_max"))
                .append("` with ").append(props.getProperty("l1_entries")).append(" routes in L1 (").append(props.getProperty("routes"))
                .append(" seeded, read from Kafka in ").append(props.getProperty("catch_up_s")).append(" s at start)\n");
        md.append("- Everything on this one machine over loopback: the load generator, the upstream (nginx, a fixed 24-byte body, "
                + "2 workers), the proxy measured (2 event loops / workers / threads each), and the stack.\n");
        md.append("- ").append(props.getProperty("connections")).append(" connections, ").append(seconds).append(" s per run, targets in alternating order (direct, sidecar, nginx, HAProxy, repeated).\n\n");

        saturationTable(md, props.getProperty("connections"), props.getProperty("rounds"), saturation, rps, cpuPer10k);
        Path highFile = run.resolve("saturation-high.tsv");
        List<Map<String, String>> high = Files.exists(highFile) ? readTsv(highFile) : List.of();
        Map<String, Double> rpsHigh = medianByTarget(high, r -> num(r, "rps"));
        Map<String, Double> cpuHigh = medianByTarget(high, r -> num(r, "cpu_s") / num(r, "requests") * 10_000);
        if (!high.isEmpty()) {
            saturationTable(md, props.getProperty("connections_high"), props.getProperty("rounds"), high, rpsHigh, cpuHigh);
        }
        md.append("\n## Latency at fixed rates (open model, no coordinated omission)\n\n");
        md.append("`OpenLoad` (loadtest/src/main) sends at a constant rate and counts each request's latency from the time it was due, "
                + "so queueing behind a slow response is measured. Two sets of rates: 25, 50 and 75 % of the direct saturation "
                + "median (`direct` basis, as the performance issue asks), and of the slowest proxy's saturation median "
                + "(`proxies` basis: every proxy below its capacity, so the figures compare proxies rather than how fast their "
                + "queues grow). \"added\" is the proxy's figure minus the direct one at the same rate. Each run: 2 s warm-up, then ")
                .append(seconds).append(" s measured.\n\n");
        md.append("| basis | load | rate | target | p50 | p99 | p99.9 | max | added p50 | added p99 | added p99.9 | errors | behind | proxy CPU s per 10k req |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Map<String, String> row : latency) {
            Map<String, String> direct = latencyRow(latency, row.get("basis"), row.get("load"), "direct");
            boolean isDirect = row.get("target").equals("direct");
            double sent = num(row, "rate") * (seconds + 2);
            md.append(String.format(Locale.ROOT, "| %s | %s %% | %,.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                    row.get("basis"), row.get("load"), num(row, "rate"), row.get("target"),
                    ms(num(row, "p50_us")), ms(num(row, "p99_us")), ms(num(row, "p999_us")), ms(num(row, "max_us")),
                    isDirect ? "–" : ms(num(row, "p50_us") - num(direct, "p50_us")),
                    isDirect ? "–" : ms(num(row, "p99_us") - num(direct, "p99_us")),
                    isDirect ? "–" : ms(num(row, "p999_us") - num(direct, "p999_us")),
                    row.get("errors"), row.get("unsent"),
                    isDirect ? "–" : String.format(Locale.ROOT, "%.3f", num(row, "cpu_s") / sent * 10_000)));
        }
        md.append("\n\"behind\" counts requests still queued or unanswered at the end of a run: the target could not keep up with the rate. "
                + "At 50 and 75 %% of the direct rate every proxy is past its capacity, so those rows measure how fast queues grow. "
                + "On this shared 2-core machine (generator, upstream, proxy and stack on the same cores) every process is stalled now and "
                + "then for tens to hundreds of milliseconds, so a single run's p99 and above at the higher rates move a lot from run to "
                + "run; the medians and the saturation rounds are the steadier figures.\n".replace("%%", "%"));

        md.append("\n## Sidecar footprint\n\nPSS (from `/proc/<pid>/smaps_rollup`) counts a page shared with other processes "
                + "(the L1 file, the JDK's libraries and class archive) as its share only: the fair figure per sidecar.\n\n"
                + "| when | heap used | RSS | PSS |\n|---|---|---|---|\n");
        for (Map<String, String> row : memory) {
            md.append(String.format(Locale.ROOT, "| %s %s | %.1f MiB | %.1f MiB | %.1f MiB |%n", row.get("phase").equals("idle") ? "idle," : "after",
                    row.get("phase").equals("idle") ? "routes read" : row.get("phase"), num(row, "heap_mib"), num(row, "rss_mib"), pss(row)));
        }
        double pssMax = memory.stream().filter(r -> !r.get("phase").equals("idle")).mapToDouble(Report::pss).max().orElse(Double.NaN);
        double heapMax = memory.stream().mapToDouble(r -> num(r, "heap_mib")).max().orElse(Double.NaN);
        double rssMax = memory.stream().mapToDouble(r -> num(r, "rss_mib")).max().orElse(Double.NaN);

        Map<String, String> propagation = fields(props.getProperty("propagation"));
        Map<String, String> splits = fields(props.getProperty("split_propagation", ""));
        md.append("\n## Route change to the sidecar under load\n\n");
        md.append(String.format(Locale.ROOT, "%s changes of one route through the control API, one after another, while the sidecar served "
                        + "%s req/s (half the slowest proxy's saturation rate); each timed from sending the PUT until the sidecar's "
                        + "`/admin/resolve` shows the new revision: **p50 %s ms, p99 %s ms, max %s ms**; %s not seen within 5 s.%n",
                propagation.get("changes"), props.getProperty("propagation_load", "?"), propagation.get("p50_ms"), propagation.get("p99_ms"),
                propagation.get("max_ms"), propagation.get("late")));
        if (!splits.isEmpty()) {
            md.append(String.format(Locale.ROOT, "%nThen %s changes of one split's weights (`PUT /v1/splits/...`), timed the same way "
                            + "until `/admin/resolve?...&split` shows the new revision: **p50 %s ms, p99 %s ms, max %s ms**; %s not seen "
                            + "within 5 s.%n", splits.get("changes"), splits.get("p50_ms"), splits.get("p99_ms"), splits.get("max_ms"),
                    splits.get("late")));
        }

        double addedSidecar = added(latency, "proxies", "sidecar");
        double addedNginx = added(latency, "proxies", "nginx");
        double addedSidecarDirect = added(latency, "direct", "sidecar");
        double addedNginxDirect = added(latency, "direct", "nginx");
        GrpcReport.section(md, run, props.getProperty("connections"), props.getProperty("rounds"));
        AccessLogReport.section(md, run, props.getProperty("connections"));
        md.append("\n## Targets\n\n| target | measured | met |\n|---|---|---|\n");
        throughputTargets(md, props.getProperty("connections"), rps, cpuPer10k);
        if (!high.isEmpty()) {
            throughputTargets(md, props.getProperty("connections_high"), rpsHigh, cpuHigh);
        }
        target(md, "sidecar added p99 at 50 % load ≤ nginx's (50 % of the slowest proxy's rate)",
                ms(addedSidecar) + " vs " + ms(addedNginx), addedSidecar <= addedNginx);
        target(md, "the same at 50 % of the direct rate (every proxy over capacity)",
                ms(addedSidecarDirect) + " vs " + ms(addedNginxDirect), addedSidecarDirect <= addedNginxDirect);
        target(md, "sidecar heap ≤ 64 MiB with the routes in L1, under load", String.format(Locale.ROOT, "%.1f MiB at most", heapMax), heapMax <= 64);
        target(md, "sidecar RSS ≤ 256 MiB", String.format(Locale.ROOT, "%.1f MiB at most", rssMax), rssMax <= 256);
        target(md, "sidecar PSS ≤ 96 MiB under load with the routes in L1", String.format(Locale.ROOT, "%.1f MiB at most", pssMax),
                pssMax <= 96);
        double p99 = Double.parseDouble(propagation.get("p99_ms"));
        target(md, "route change p99 < 200 ms under load", propagation.get("p99_ms") + " ms", p99 < 200 && propagation.get("late").equals("0"));
        if (!splits.isEmpty()) {
            target(md, "split change p99 < 200 ms under load", splits.get("p99_ms") + " ms",
                    Double.parseDouble(splits.get("p99_ms")) < 200 && splits.get("late").equals("0"));
        }

        Path beforeAfter = out.resolve("sidecar-before-after.txt");
        if (Files.exists(beforeAfter)) {
            md.append("\n## The sidecar before and after the performance work\n\n`loadtest/sidecar-ab.sh`, side by side in one run "
                    + "(`sidecar-before-after.txt`):\n\n```\n");
            for (String line : Files.readAllLines(beforeAfter)) {
                if (line.startsWith("#") || line.contains("median")) { // the header, and each run's medians
                    md.append(line).append('\n');
                }
            }
            md.append("```\n");
        }
        md.append("\n## Charts\n\n![throughput](throughput.png)\n\n![latency](latency.png)\n\n");
        md.append("Raw figures: `saturation.tsv`, `latency.tsv`, `sidecar-memory.tsv`, `run.properties`, and each open-model run's "
                + "full percentile distribution in `hdr-<basis>-<load>-<target>.txt`.\n");
        Files.writeString(out.resolve("report.md"), md.toString());
        if (charts) {
            charts(run, out, rps, latency);
        }
        for (String name : List.of("saturation.tsv", "saturation-high.tsv", "latency.tsv", "sidecar-memory.tsv", "grpc.tsv",
                "access-log.tsv", "run.properties")) {
            if (Files.exists(run.resolve(name))) {
                Files.copy(run.resolve(name), out.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        try (var files = Files.list(run)) {
            for (Path hdr : files.filter(p -> p.getFileName().toString().startsWith("hdr-")).toList()) {
                Files.copy(hdr, out.resolve(hdr.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    static Map<String, String> latencyRow(List<Map<String, String>> latency, String basis, String load, String target) {
        return latency.stream().filter(r -> r.get("basis").equals(basis) && r.get("load").equals(load) && r.get("target").equals(target))
                .findFirst().orElseThrow(() -> new IllegalStateException("no latency run for " + basis + " " + load + " % " + target));
    }

    /** The p99 a proxy adds over direct at 50 % load on one basis, microseconds. */
    static double added(List<Map<String, String>> latency, String basis, String target) {
        return num(latencyRow(latency, basis, "50", target), "p99_us") - num(latencyRow(latency, basis, "50", "direct"), "p99_us");
    }

    private static void target(StringBuilder md, String goal, String measured, boolean met) {
        md.append("| ").append(goal).append(" | ").append(measured).append(" | ").append(met ? "yes" : "**no**").append(" |\n");
    }

    static String ms(double micros) {
        return String.format(Locale.ROOT, "%.2f ms", micros / 1000);
    }

    /** Writes the data files and the gnuplot script, and runs gnuplot. */
    private static void charts(Path run, Path out, Map<String, Double> rps, List<Map<String, String>> latency) throws Exception {
        StringBuilder throughput = new StringBuilder("target rps\n");
        rps.forEach((target, value) -> throughput.append(target).append(' ').append(String.format(Locale.ROOT, "%.0f", value)).append('\n'));
        Files.writeString(run.resolve("throughput.dat"), throughput);
        // One block per basis and percentile: rows are loads, columns are targets (milliseconds).
        StringBuilder lat = new StringBuilder();
        for (String basis : List.of("proxies", "direct")) {
            for (String percentile : List.of("p50_us", "p99_us", "p999_us")) {
                lat.append("load ").append(String.join(" ", TARGETS)).append('\n');
                for (String load : List.of("25", "50", "75")) {
                    lat.append(load).append('%');
                    for (String target : TARGETS) {
                        lat.append(' ').append(String.format(Locale.ROOT, "%.3f",
                                num(latencyRow(latency, basis, load, target), percentile) / 1000));
                    }
                    lat.append('\n');
                }
                lat.append("\n\n");
            }
        }
        Files.writeString(run.resolve("latency.dat"), lat);
        String script = """
                set terminal pngcairo size 900,480 font ',10'
                set output '%1$s/throughput.png'
                set title 'Saturation throughput (wrk, median of rounds)'
                set ylabel 'requests/s'
                set style fill solid 0.8 border -1
                set boxwidth 0.6
                set yrange [0:*]
                set grid ytics
                unset key
                plot '%2$s/throughput.dat' using 0:2:xtic(1) with boxes lc rgb '#4472c4', \\
                     '' using 0:2:(sprintf('%%.0f', $2)) with labels offset 0,0.8
                set output '%1$s/latency.png'
                set terminal pngcairo size 1200,900 font ',10'
                set multiplot layout 2,3 title 'Latency at fixed rates (open model). Top: %% of the slowest proxy''s saturation rate; bottom: %% of the direct rate'
                set style data histograms
                set style histogram clustered gap 1
                set logscale y
                set yrange [*:*]
                set ylabel 'ms (log scale)'
                set key top left
                do for [i=0:5] {
                  set title (i %% 3 == 0 ? 'p50' : i %% 3 == 1 ? 'p99' : 'p99.9') . (i < 3 ? ', %% of slowest proxy' : ', %% of direct')
                  plot '%2$s/latency.dat' index i using 2:xtic(1) title columnheader(2), '' index i using 3 title columnheader(3), \\
                       '' index i using 4 title columnheader(4), '' index i using 5 title columnheader(5)
                }
                unset multiplot
                """.formatted(out.toAbsolutePath(), run.toAbsolutePath());
        Path gp = run.resolve("charts.gp");
        Files.writeString(gp, script);
        Process gnuplot = new ProcessBuilder("gnuplot", gp.toString()).inheritIO().start();
        if (!gnuplot.waitFor(60, TimeUnit.SECONDS) || gnuplot.exitValue() != 0) {
            throw new IllegalStateException("gnuplot failed on " + gp);
        }
    }

    /** {@code name=value} pairs separated by spaces, in order; empty for an empty text. */
    private static Map<String, String> fields(String text) {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String pair : text.trim().split("\\s+")) {
            String[] kv = pair.split("=", 2);
            if (kv.length == 2) {
                fields.put(kv[0], kv[1]);
            }
        }
        return fields;
    }
}
