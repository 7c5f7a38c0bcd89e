package dev.trafficmanager.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The report's access log section, from {@code access-log.tsv} (loadtest/sidecar-ab.sh, log off against on). */
final class AccessLogReport {
    private AccessLogReport() {
    }

    static void section(StringBuilder md, Path run, String connections) throws IOException {
        Path file = run.resolve("access-log.tsv");
        if (!Files.exists(file)) {
            return;
        }
        List<Map<String, String>> rows = Report.readTsv(file);
        List<Map<String, String>> off = rows.stream().filter(r -> r.get("variant").equals("log-off")).toList();
        List<Map<String, String>> on = rows.stream().filter(r -> r.get("variant").equals("log-on")).toList();
        double rpsOff = Report.median(off.stream().map(r -> Report.num(r, "rps")).toList());
        double rpsOn = Report.median(on.stream().map(r -> Report.num(r, "rps")).toList());
        double cpuOff = Report.median(off.stream().map(r -> Report.num(r, "cpu_us")).toList());
        double cpuOn = Report.median(on.stream().map(r -> Report.num(r, "cpu_us")).toList());
        double bytes = on.isEmpty() ? 0 : Report.num(on.get(0), "log_bytes");
        double lines = on.isEmpty() ? 0 : Report.num(on.get(0), "log_lines");
        md.append("\n## Access log and trace context (loadtest/sidecar-ab.sh, wrk -c").append(connections)
                .append(", alternating)\n\n");
        md.append("Two sidecars on the same route and upstream: `TM_ACCESS_LOG=off TM_TRACE_CONTEXT=off` against "
                + "`TM_ACCESS_LOG=<file>` with trace context created (the defaults but a file for standard output). "
                + "The saturation figures above are the sidecar with both off, as nginx and HAProxy run without logs.\n\n");
        md.append("| sidecar | req/s (median) | rounds | CPU µs per request (median) |\n|---|---|---|---|\n");
        row(md, "log and trace context off", off, rpsOff, cpuOff);
        row(md, "log on, trace context created", on, rpsOn, cpuOn);
        md.append(String.format(Locale.ROOT, "%nLogging every request: **%.2f× the req/s at %.2f× the CPU per request**"
                        + "%s.%n", rpsOn / rpsOff, cpuOn / cpuOff,
                lines > 0 ? String.format(Locale.ROOT, " (%,.0f lines of %.0f bytes on average written in the run)", lines,
                        bytes / lines) : ""));
    }

    private static void row(StringBuilder md, String name, List<Map<String, String>> rows, double rps, double cpu) {
        md.append(String.format(Locale.ROOT, "| %s | %,.0f | %s | %.1f |%n", name, rps,
                String.join(" / ", rows.stream().map(r -> String.format(Locale.ROOT, "%,.0f", Report.num(r, "rps"))).toList()), cpu));
    }
}
