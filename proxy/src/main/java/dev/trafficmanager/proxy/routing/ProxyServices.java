package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.lookup.Resolver;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.upstream.UpstreamPools;
import java.time.Duration;

/** What every connection handler shares; all thread-safe. */
public record ProxyServices(Resolver resolver, RouteHeaders headers, UpstreamPools pools, ProxyMetrics metrics,
                            Drain drain, ProxyConfig.Upstream upstream, Duration clientIdleTimeout) {

    long clientIdleTimeoutNanos() {
        return clientIdleTimeout.toNanos();
    }
}
