package dev.trafficmanager.loadtest;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long a route change takes to reach a sidecar: changes one route's URL through the control API
 * {@code --changes} times, one after the other, and for each measures from sending the PUT until the
 * sidecar's {@code /admin/resolve} shows the new revision (polled every 0.5 ms; the route is known,
 * so the answer comes from the sidecar's own tiers and no lookup reaches Redis or PostgreSQL).
 * Prints {@code changes=... p50_ms=... p99_ms=... max_ms=... late=...}, where late counts changes
 * not seen within 5 s. With {@code --target split}, the changes are of a split's weights instead
 * ({@code PUT /v1/splits/T/prop/prod}, v2's weight stepping 1 to 98), seen through
 * {@code /admin/resolve?...&split}.
 *
 * <p>{@code PropagationProbe --api URL --token T --tenant T --admin URL --upstream URL [--changes N] [--target route|split]}
 */
public final class PropagationProbe {
    private static final Pattern REVISION = Pattern.compile("\"revision\"\\s*:\\s*(\\d+)");
    private static final long DEADLINE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private PropagationProbe() {
    }

    public static void main(String[] args) throws Exception {
        Args given = new Args(args, "--api URL --token T --tenant T --admin URL --upstream URL [--changes N] [--target route|split]");
        String api = given.require("--api");
        String admin = given.require("--admin");
        String tenant = given.require("--tenant");
        String token = given.require("--token");
        String upstream = given.require("--upstream").replaceAll("/+$", "");
        int changes = Integer.parseInt(given.get("--changes", "1000"));

        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
        boolean split = given.get("--target", "route").equals("split");
        URI route = URI.create(api + (split ? "/v1/splits/" + tenant + "/prop/prod" : "/v1/routes/" + tenant + "/prop/prod/v1"));
        HttpRequest resolve = HttpRequest.newBuilder(URI.create(admin + "/admin/resolve?tenant=" + tenant
                + "&service=prop&env=prod&" + (split ? "split" : "version=v1"))).timeout(Duration.ofSeconds(2)).build();
        long[] micros = new long[changes];
        int late = 0;
        for (int i = 0; i < changes; i++) {
            long start = System.nanoTime();
            HttpResponse<String> put = client.send(HttpRequest.newBuilder(route).timeout(Duration.ofSeconds(5))
                    .header("Authorization", "Bearer " + token)
                    .PUT(HttpRequest.BodyPublishers.ofString(split
                            ? "{\"weights\":{\"v1\":" + (99 - i % 98) + ",\"v2\":" + (1 + i % 98) + "}}"
                            : "{\"url\":\"" + upstream + "/change/" + i + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (put.statusCode() / 100 != 2) {
                throw new IllegalStateException("PUT " + route + " answered " + put.statusCode() + ": " + put.body());
            }
            long revision = revision(put.body());
            while (revision(client.send(resolve, HttpResponse.BodyHandlers.ofString()).body()) < revision) {
                if (System.nanoTime() - start > DEADLINE_NANOS) {
                    late++;
                    break;
                }
                LockSupport.parkNanos(500_000);
            }
            micros[i] = (System.nanoTime() - start) / 1000;
        }
        Arrays.sort(micros);
        System.out.printf("changes=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f late=%d%n", changes,
                micros[changes / 2] / 1000.0, micros[Math.max(0, (int) Math.ceil(changes * 0.99) - 1)] / 1000.0,
                micros[changes - 1] / 1000.0, late);
    }

    /** The {@code revision} field of a control-API or admin-port JSON answer; -1 when there is none. */
    static long revision(String json) {
        Matcher m = REVISION.matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
