package dev.trafficmanager.proxy.upstream;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.Transport;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.resilience.CircuitBreaker;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.FastThreadLocal;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The upstream connection pools: one per upstream and event loop, so a request's upstream
 * connection lives on the event loop of its client connection and no pool is shared between
 * threads. Thread-safe: each event loop finds its own pools.
 *
 * <pre>
 * upstream pipeline:  [tls] -> http (HttpClientCodec) -> idle (IdleStateHandler) -> upstream (UpstreamHandler)
 * </pre>
 */
public final class UpstreamPools {
    private final ProxyConfig.Upstream settings;
    private final Class<? extends Channel> channelType;
    private final SslContext ssl;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    // Updated by every request on every event loop: adders, not one contended cache line.
    private final LongAdder openConnections = new LongAdder();
    private final LongAdder idleConnections = new LongAdder();
    private final ProxyMetrics.Breakers breakers;
    private final FastThreadLocal<Map<String, UpstreamPool>> perLoop = new FastThreadLocal<>() {
        @Override
        protected Map<String, UpstreamPool> initialValue() {
            return new HashMap<>();
        }
    };

    public UpstreamPools(ProxyConfig.Upstream settings, Class<? extends Channel> channelType, SslContext ssl,
                         AddressResolverGroup<InetSocketAddress> resolver, ProxyMetrics metrics) {
        this.settings = settings;
        this.channelType = channelType;
        this.ssl = ssl;
        this.resolver = resolver;
        this.breakers = metrics.breakers("upstream");
        metrics.gauge("tm_upstream_connections_open", "upstream connections open, in use or pooled", openConnections::sum);
        metrics.gauge("tm_upstream_connections_idle", "upstream connections waiting in a pool", idleConnections::sum);
    }

    /** The calling event loop's pool for {@code target}; call only on {@code loop}. */
    public UpstreamPool pool(EventLoop loop, UpstreamTarget target) {
        Map<String, UpstreamPool> pools = perLoop.get();
        UpstreamPool pool = pools.get(target.poolKey());
        if (pool == null) {
            pool = create(loop, target);
            pools.put(target.poolKey(), pool);
        }
        return pool;
    }

    /**
     * A plain TCP connection to {@code target} on {@code loop}, outside any pool, with {@code handler}
     * as its pipeline: for a CONNECT tunnel. Reads only when asked (AUTO_READ off).
     */
    public ChannelFuture connectRaw(EventLoop loop, UpstreamTarget target, ChannelHandler handler) {
        return bootstrap(loop).handler(handler).connect(target.host(), target.port());
    }

    private Bootstrap bootstrap(EventLoop loop) {
        return new Bootstrap().group(loop).channel(channelType).resolver(resolver)
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.ALLOCATOR, Transport.ALLOCATOR)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis());
    }

    private UpstreamPool create(EventLoop loop, UpstreamTarget target) {
        Bootstrap bootstrap = bootstrap(loop);
        CircuitBreaker breaker = new CircuitBreaker("upstream " + target.poolKey(), settings.breaker(),
                System::nanoTime, breakers.listener());
        UpstreamPool pool = new UpstreamPool(target, bootstrap, settings.maxConnections(), openConnections, idleConnections,
                breaker, breakers.rejections());
        bootstrap.handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                ChannelPipeline p = ch.pipeline();
                if (target.https()) {
                    p.addLast("tls", ssl.newHandler(ch.alloc(), target.host(), target.port()));
                }
                p.addLast("http", new HttpClientCodec(new HttpDecoderConfig()
                        .setMaxInitialLineLength(8192).setMaxHeaderSize(65536).setMaxChunkSize(65536), false, false));
                p.addLast("upstream", new UpstreamHandler(pool, settings.streamIdleTimeout().toNanos(),
                        settings.poolIdleTimeout().toNanos()));
            }
        });
        return pool;
    }
}
