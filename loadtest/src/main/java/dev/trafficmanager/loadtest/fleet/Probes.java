package dev.trafficmanager.loadtest.fleet;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the fleet run reads off a process: PSS, TCP connections by peer port, meters from /metrics. */
final class Probes {
    private static final Pattern SS_LINE = Pattern.compile("\\S+\\s+\\S+\\s+\\S+\\s+(\\S+):(\\d+)\\s+(\\S+):(\\d+).*pid=(\\d+),");
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    /** Proportional set size in KiB (shared pages divided among their sharers), or -1 when gone. */
    static long pssKib(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/smaps_rollup"))) {
                if (line.startsWith("Pss:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return -1;
    }

    /** Established TCP connections per process, by the peer's port: pid -> (port -> count), from {@code ss -tnp}. */
    static Map<Long, Map<Integer, Integer>> connectionsByPid() throws IOException, InterruptedException {
        Process ss = new ProcessBuilder("ss", "-Htnp", "state", "established").redirectErrorStream(true).start();
        String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ss.waitFor();
        Map<Long, Map<Integer, Integer>> byPid = new HashMap<>();
        for (String line : out.split("\n")) {
            // state-filtered output has no State column: Recv-Q Send-Q Local:Port Peer:Port Process
            Matcher m = SS_LINE.matcher("x " + line.trim());
            if (m.find()) {
                byPid.computeIfAbsent(Long.parseLong(m.group(5)), p -> new HashMap<>())
                        .merge(Integer.parseInt(m.group(4)), 1, Integer::sum);
            }
        }
        return byPid;
    }

    String get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    boolean ok(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The sum of a meter's samples on a Prometheus page ({@code name} or {@code name{labels}}); 0 when absent. */
    static double meter(String page, String name, String labelFilter) {
        double sum = 0;
        for (String line : page.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{") && (labelFilter == null || line.contains(labelFilter))) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    HttpClient http() {
        return http;
    }
}
