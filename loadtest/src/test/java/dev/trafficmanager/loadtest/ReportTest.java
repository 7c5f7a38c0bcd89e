package dev.trafficmanager.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    @TempDir
    Path run;
    @TempDir
    Path out;

    private void write(String name, String... lines) throws Exception {
        Files.writeString(run.resolve(name), String.join("\n", lines) + "\n");
    }

    @Test
    void summarisesMediansAddedLatencyAndTargets() throws Exception {
        write("run.properties", "date=2026-11-22T05:00Z", "machine=2 cores", "cpu=test", "versions=nginx 1", "connections=16", "connections_high=64",
                "seconds=10", "rounds=3", "routes=100000", "l1_entries=100002", "catch_up_s=4", "sidecar_heap_max=64m",
                "propagation=changes=1000 p50_ms=15.0 p99_ms=120.5 max_ms=180.0 late=0", "propagation_load=10000");
        write("saturation.tsv", "round\ttarget\trequests\trps\tp50_ms\tp99_ms\tcpu_s",
                "1\tdirect\t1000000\t100000\t0.1\t1.0\t0",
                "1\tsidecar\t300000\t30000\t0.5\t2.0\t9.0",
                "1\tnginx\t500000\t50000\t0.3\t1.5\t9.0",
                "1\thaproxy\t400000\t40000\t0.4\t1.8\t8.0",
                "2\tdirect\t1200000\t120000\t0.1\t1.0\t0",
                "2\tsidecar\t400000\t40000\t0.5\t2.0\t10.0",
                "2\tnginx\t520000\t52000\t0.3\t1.5\t9.0",
                "2\thaproxy\t420000\t42000\t0.4\t1.8\t8.0",
                "3\tdirect\t1100000\t110000\t0.1\t1.0\t0",
                "3\tsidecar\t350000\t35000\t0.5\t2.0\t9.5",
                "3\tnginx\t510000\t51000\t0.3\t1.5\t9.0",
                "3\thaproxy\t410000\t41000\t0.4\t1.8\t8.0");
        StringBuilder latency = new StringBuilder("basis\tload\trate\ttarget\tcompleted\terrors\tunsent\tp50_us\tp99_us\tp999_us\tmax_us\tcpu_s\n");
        for (String basis : new String[] {"direct", "proxies"}) {
            for (String load : new String[] {"25", "50", "75"}) {
                latency.append(basis).append('\t').append(load).append("\t10000\tdirect\t100000\t0\t0\t100\t1000\t2000\t3000\t0\n");
                latency.append(basis).append('\t').append(load).append("\t10000\tsidecar\t100000\t0\t0\t300\t4000\t6000\t7000\t3.6\n");
                latency.append(basis).append('\t').append(load).append("\t10000\tnginx\t100000\t0\t0\t200\t3000\t5000\t6000\t2.4\n");
                latency.append(basis).append('\t').append(load).append("\t10000\thaproxy\t100000\t0\t0\t250\t3500\t5500\t6500\t2.4\n");
            }
        }
        Files.writeString(run.resolve("latency.tsv"), latency);
        write("sidecar-memory.tsv", "phase\theap_mib\trss_mib\tpss_mib", "idle\t20.0\t120.0\t150.0",
                "saturation-c16-1\t40.5\t230.0\t90.0", "propagation\t45.0\t240.0\t95.5");
        write("saturation-high.tsv", "round\ttarget\trequests\trps\tp50_ms\tp99_ms\tcpu_s",
                "1\tdirect\t1000000\t100000\t0.1\t1.0\t0",
                "1\tsidecar\t600000\t60000\t0.5\t2.0\t9.0",
                "1\tnginx\t500000\t50000\t0.3\t1.5\t10.0",
                "1\thaproxy\t400000\t40000\t0.4\t1.8\t8.0");
        write("grpc.tsv", "round\ttarget\tcalls\trps\tp50_us\tp99_us\terrors\tcpu_s",
                "1\tdirect\t100000\t10000\t500\t2000\t0\t0",
                "1\tsidecar\t60000\t6000\t900\t4000\t0\t3.0",
                "1\tnginx\t50000\t5000\t1000\t5000\t2\t5.0");

        Report.write(run, out, false);

        String report = Files.readString(out.resolve("report.md"));
        // medians over the rounds, and the ratio to direct
        assertThat(report).contains("| direct | 110,000 | 100,000 / 120,000 / 110,000 | 1.00× |");
        assertThat(report).contains("| sidecar | 35,000 | 30,000 / 40,000 / 35,000 | 0.32× |");
        // CPU per 10k requests: the median of 9/300k, 10/400k, 9.5/350k
        assertThat(report).contains("| 0.271 |");
        // added p99 over direct at the same rate: 4 ms - 1 ms
        assertThat(report).contains("| proxies | 50 % | 10,000 | sidecar | 0.30 ms | 4.00 ms | 6.00 ms | 7.00 ms | 0.20 ms | 3.00 ms | 4.00 ms | 0 | 0 | 0.300 |");
        assertThat(report).contains("| sidecar throughput ≥ nginx's (16 connections) | 35,000 vs 51,000 req/s (0.69×) | **no** |");
        // the second sweep: its own table and targets (CPU per request 9/600k vs 10/500k)
        assertThat(report).contains("## Saturation at 64 connections");
        assertThat(report).contains("| sidecar | 6,000 | 6,000 | 0.60× | 0.90 ms | 4.00 ms | 50.0 | 0.50× |");
        assertThat(report).contains("**1.20× the calls/s at 0.50× the CPU per call**; 2 failed calls");
        assertThat(report).contains("| sidecar throughput ≥ nginx's (64 connections) | 60,000 vs 50,000 req/s (1.20×) | yes |");
        assertThat(report).contains("| sidecar CPU per request ≤ nginx's (64 connections) | 0.150 vs 0.200 CPU s per 10k (0.75×) | yes |");
        // PSS under load only: the idle row's 150 MiB does not count
        assertThat(report).contains("| sidecar PSS ≤ 96 MiB under load with the routes in L1 | 95.5 MiB at most | yes |");
        assertThat(report).contains("| sidecar heap ≤ 64 MiB with the routes in L1, under load | 45.0 MiB at most | yes |");
        assertThat(report).contains("| route change p99 < 200 ms under load | 120.5 ms | yes |");
        assertThat(out.resolve("latency.tsv")).exists();
    }
}
