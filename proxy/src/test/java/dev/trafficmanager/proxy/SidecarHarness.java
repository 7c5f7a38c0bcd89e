package dev.trafficmanager.proxy;

import dev.trafficmanager.controlapi.ApiClient;
import dev.trafficmanager.controlapi.TestControlApi;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Result;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Tier;
import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.LongSupplier;

/**
 * A control API and sidecars on the real local stack, for end-to-end tests: routes are written
 * through the control API, requests go through the sidecar's proxy port.
 */
final class SidecarHarness implements AutoCloseable {
    final TestControlApi api;
    final String tenant;
    final String token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private SidecarHarness(TestControlApi api) {
        this.api = api;
        this.tenant = TestControlApi.unique("t");
        this.token = api.client.createTenant(TestControlApi.ADMIN_TOKEN, tenant);
    }

    static SidecarHarness start() throws InterruptedException {
        return new SidecarHarness(TestControlApi.start());
    }

    /** The sidecar settings for this harness's stack and topic; tests override some. */
    Map<String, String> sidecarEnv(Path l1File) {
        Map<String, String> env = new HashMap<>(LocalStack.clientEnv("sidecar")); // its read-only credentials
        env.put("TM_PROXY_PORT", "0");
        env.put("TM_PROXY_ADMIN_PORT", "0");
        env.put("TM_PROXY_EVENT_LOOPS", "2");
        env.put("TM_L1_FILE", l1File.toString());
        env.put("TM_L1_MAX_ENTRIES", "10000");
        env.put("TM_DB_URL", TestControlApi.jdbcUrl());
        env.put("TM_KAFKA_TOPIC", api.topic);
        env.put("TM_TENANT", tenant);
        env.put("TM_ENV", "prod");
        env.put("TM_UPSTREAM_RESPONSE_TIMEOUT_MS", "1500");
        env.put("TM_PROXY_DRAIN_TIMEOUT_MS", "2000");
        return env;
    }

    /**
     * The settings of a sidecar as a transparent proxy: requests name only the service (by route
     * header or authority); tenant, env and version v1 are the defaults.
     */
    Map<String, String> transparentSidecarEnv(Path l1File) {
        Map<String, String> env = sidecarEnv(l1File);
        env.put("TM_DEFAULT_VERSION", "v1");
        return env;
    }

    /**
     * A sidecar that reads no events (its topic has none), with an L1 of its own: a route written
     * through the control API is in none of its tiers until it looks it up (Redis does not have it
     * either: events only delete Redis keys).
     */
    Map<String, String> isolatedSidecarEnv(Path l1File) {
        Map<String, String> env = sidecarEnv(l1File);
        env.put("TM_KAFKA_TOPIC", "tm.route-events.none-" + UUID.randomUUID());
        return env;
    }

    static Sidecar startSidecar(Map<String, String> env) throws Exception {
        return Sidecar.start(ProxyConfig.fromEnv(env));
    }

    static Sidecar startSidecar(Map<String, String> env, LongSupplier clock) throws Exception {
        return Sidecar.start(ProxyConfig.fromEnv(env), clock);
    }

    static Sidecar startReady(Map<String, String> env) throws Exception {
        Sidecar sidecar = startSidecar(env);
        Poll.until(Duration.ofSeconds(30), "sidecar ready", sidecar::ready);
        return sidecar;
    }

    ApiClient.Response put(String service, String version, String url) {
        ApiClient.Response response = api.client.put(path(service, version), token, ApiClient.urlBody(url));
        if (response.status() != 200 && response.status() != 201) {
            throw new AssertionError("PUT " + service + "/" + version + ": " + response.status() + " " + response.body());
        }
        return response;
    }

    /** The key of {@code service}'s version v1 in env prod, as the sidecar's tiers hold it. */
    String key(String service) {
        return tenant + "/" + service + "/prod/v1";
    }

    /**
     * Creates a route to {@code url} for a new service (version v1) and waits until {@code sidecar}
     * has it from Kafka, without sending it a request; returns the service.
     */
    String newRoute(Sidecar sidecar, String url) {
        return newRoute(sidecar, "svc-" + UUID.randomUUID().toString().substring(0, 8), url);
    }

    /** The same with the route pinning its upstream's {@code protocol} ({@code http1}, {@code h2}). */
    String newPinnedRoute(Sidecar sidecar, String url, String protocol) {
        return newRouteOf(sidecar, "{\"url\":\"" + url + "\",\"protocol\":\"" + protocol + "\"}");
    }

    /** The same with the route's whole JSON body (endpoints, timeoutMs, retries...). */
    String newRouteOf(Sidecar sidecar, String body) {
        String service = "svc-" + UUID.randomUUID().toString().substring(0, 8);
        ApiClient.Response response = api.client.put(path(service, "v1"), token, body);
        if (response.status() != 201) {
            throw new AssertionError("PUT " + service + ": " + response.status() + " " + response.body());
        }
        Poll.until(Duration.ofSeconds(5), "route " + service + " known to the sidecar",
                () -> sidecar.resolver().entry(key(service)) != null);
        return service;
    }

    /** The same for a service named {@code service}. */
    String newRoute(Sidecar sidecar, String service, String url) {
        put(service, "v1", url);
        Poll.until(Duration.ofSeconds(5), "route " + service + " known to the sidecar",
                () -> sidecar.resolver().entry(key(service)) != null);
        return service;
    }

    ApiClient.Response post(String service, String version, String action) {
        return api.client.post(path(service, version) + "/" + action, token, "");
    }

    private String path(String service, String version) {
        return "/v1/routes/" + tenant + "/" + service + "/prod/" + version;
    }

    /** GET through the sidecar with the service and version headers (tenant and env default). */
    HttpResponse<String> get(Sidecar sidecar, String path, String service, String version) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + sidecar.port() + path))
                .timeout(Duration.ofSeconds(20));
        if (service != null) {
            request.header("x-tm-service", service);
        }
        if (version != null) {
            request.header("x-tm-version", version);
        }
        return send(request.build());
    }

    HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError("request through the sidecar failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    HttpClient http() {
        return http;
    }

    static long lookups(Sidecar sidecar, Tier tier) {
        long total = 0;
        for (Result result : Result.values()) {
            total += (long) sidecar.metrics().lookups(tier, result);
        }
        return total;
    }

    @Override
    public void close() {
        api.close();
    }
}
