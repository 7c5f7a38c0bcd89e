package dev.trafficmanager.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The report's gRPC section, from {@code grpc.tsv} (loadtest/grpc-compare.sh); nothing when the run has none. */
final class GrpcReport {
    static final List<String> TARGETS = List.of("direct", "sidecar", "nginx");

    private GrpcReport() {
    }

    static void section(StringBuilder md, Path run, String connections, String rounds) throws IOException {
        Path file = run.resolve("grpc.tsv");
        if (!Files.exists(file)) {
            return;
        }
        List<Map<String, String>> rows = Report.readTsv(file);
        Map<String, Double> rps = new LinkedHashMap<>();
        Map<String, Double> cpuPerCall = new LinkedHashMap<>();
        for (String target : TARGETS) {
            List<Map<String, String>> mine = rows.stream().filter(r -> r.get("target").equals(target)).toList();
            rps.put(target, Report.median(mine.stream().map(r -> Report.num(r, "rps")).toList()));
            cpuPerCall.put(target, Report.median(mine.stream()
                    .map(r -> Report.num(r, "cpu_s") / Report.num(r, "calls") * 1_000_000).toList()));
        }
        md.append("\n## gRPC unary calls (GrpcLoad, grpc-java, one HTTP/2 connection, ").append(connections)
                .append(" calls outstanding, ").append(rounds).append(" rounds)\n\n");
        md.append("The same echo server (grpc-java) directly, through the sidecar (h2c both ways) and through nginx's "
                + "`grpc_pass`, alternating. CPU is the proxy's own, per call.\n\n");
        md.append("| target | calls/s (median) | rounds | vs direct | p50 | p99 | proxy CPU µs per call | vs nginx |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        for (String target : TARGETS) {
            List<Map<String, String>> mine = rows.stream().filter(r -> r.get("target").equals(target)).toList();
            boolean direct = target.equals("direct");
            md.append(String.format(Locale.ROOT, "| %s | %,.0f | %s | %.2f× | %s | %s | %s | %s |%n", target, rps.get(target),
                    String.join(" / ", mine.stream().map(r -> String.format(Locale.ROOT, "%,.0f", Report.num(r, "rps"))).toList()),
                    rps.get(target) / rps.get("direct"),
                    Report.ms(Report.median(mine.stream().map(r -> Report.num(r, "p50_us")).toList())),
                    Report.ms(Report.median(mine.stream().map(r -> Report.num(r, "p99_us")).toList())),
                    direct ? "–" : String.format(Locale.ROOT, "%.1f", cpuPerCall.get(target)),
                    direct ? "–" : String.format(Locale.ROOT, "%.2f×", cpuPerCall.get(target) / cpuPerCall.get("nginx"))));
        }
        double errors = rows.stream().mapToDouble(r -> Report.num(r, "errors")).sum();
        md.append(String.format(Locale.ROOT, "%nSidecar vs nginx `grpc_pass`: **%.2f× the calls/s at %.2f× the CPU per call**; "
                        + "%.0f failed calls in all runs.%n", rps.get("sidecar") / rps.get("nginx"),
                cpuPerCall.get("sidecar") / cpuPerCall.get("nginx"), errors));
    }
}
