package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.balancing.Balancer;
import dev.trafficmanager.proxy.lookup.Resolver;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.upstream.UpstreamPools;

/** What every connection handler shares; all thread-safe. */
public record ProxyServices(Resolver resolver, RequestRouter router, UpstreamPools pools, ProxyMetrics metrics,
                            Drain drain, ProxyConfig.Upstream upstream, ProxyConfig.ClientLimits client,
                            TenantBulkhead bulkhead, Balancer balancer) {

    long clientIdleTimeoutNanos() {
        return client.idleTimeout().toNanos();
    }
}
