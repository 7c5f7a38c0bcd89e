package dev.trafficmanager.benchmarks;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.lookup.RouteKeyProbe;
import dev.trafficmanager.proxy.routing.RouteHeaders;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Map;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Reading the route key from a request's headers into the reusable probe, as the proxy does for
 * every request: the service and version headers among ten typical ones, tenant and env from the
 * sidecar's defaults ({@code defaults}) or all four from headers ({@code headers}).
 */
@State(Scope.Thread)
public class RouteHeadersBenchmark extends BenchmarkBase {
    @Param({"defaults", "headers"})
    public String keyFrom;

    private RouteHeaders routeHeaders;
    private HttpHeaders headers;
    private final RouteKeyProbe probe = new RouteKeyProbe();

    @Setup(Level.Trial)
    public void setUp() {
        ProxyConfig config = ProxyConfig.fromEnv(Map.of("TM_TENANT", "team", "TM_ENV", "prod"));
        routeHeaders = new RouteHeaders(config.headers(), config.defaults());
        headers = new DefaultHttpHeaders()
                .add("Host", "hello.team.svc")
                .add("User-Agent", "curl/8.4.0")
                .add("Accept", "application/json")
                .add("Accept-Encoding", "gzip")
                .add("Authorization", "Bearer abcdefghijklmnopqrstuvwxyz")
                .add("Content-Type", "application/json")
                .add("X-Request-Id", "5f0c6f2e-6d3a-4c1e-9a51-6d7f8b0e2a11")
                .add("x-tm-service", "hello")
                .add("x-tm-version", "v1")
                .add("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        if (keyFrom.equals("headers")) {
            headers.add("x-tm-tenant", "team").add("x-tm-env", "prod");
        }
    }

    @Benchmark
    public RouteKeyProbe read() {
        if (routeHeaders.read(headers, probe) != null) {
            throw new IllegalStateException("valid headers refused");
        }
        return probe;
    }
}
