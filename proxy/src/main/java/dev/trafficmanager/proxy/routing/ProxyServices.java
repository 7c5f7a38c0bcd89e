package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.balancing.Balancer;
import dev.trafficmanager.proxy.lookup.Resolver;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.observe.Observer;
import dev.trafficmanager.proxy.upstream.UpstreamPools;

/** What every connection handler shares; all thread-safe. */
public record ProxyServices(Resolver resolver, RequestRouter router, UpstreamPools pools, ProxyMetrics metrics,
                            Drain drain, ProxyConfig.Upstream upstream, ProxyConfig.ClientLimits client,
                            TenantBulkhead bulkhead, Balancer balancer, Observer observer) {

    /** Without an access log or trace context (benchmarks and tests of other concerns). */
    public ProxyServices(Resolver resolver, RequestRouter router, UpstreamPools pools, ProxyMetrics metrics, Drain drain,
                         ProxyConfig.Upstream upstream, ProxyConfig.ClientLimits client, TenantBulkhead bulkhead,
                         Balancer balancer) {
        this(resolver, router, pools, metrics, drain, upstream, client, bulkhead, balancer, Observer.OFF);
    }

    long clientIdleTimeoutNanos() {
        return client.idleTimeout().toNanos();
    }
}
