package dev.trafficmanager.proxy.upstream;

import dev.trafficmanager.http.PipelineLayout;
import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.Transport;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.resilience.CircuitBreaker;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.concurrent.FastThreadLocal;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream connection pools: one per upstream and event loop, so a request's upstream
 * connection lives on the event loop of its client connection and no pool is shared between
 * threads. Thread-safe: each event loop finds its own pools.
 *
 * Their connections' pipeline is {@link PipelineLayout#UPSTREAM}.
 */
public final class UpstreamPools {
    private static final Logger log = LoggerFactory.getLogger(UpstreamPools.class);
    /** Pools per event loop before the least recently used idle ones are dropped at once. */
    static final int MAX_POOLS_PER_LOOP = 1024;
    /**
     * How long an upstream that answered h2c's preface like an HTTP/1.1 server gets HTTP/1.1 from
     * HTTP/2 clients (of {@code auto} routes) without being asked again, per event loop.
     */
    static final long HTTP1_ONLY_NANOS = TimeUnit.MINUTES.toNanos(10);
    private static final int MAX_HTTP1_ONLY = 4096;

    private final ProxyConfig.Upstream settings;
    private final Class<? extends Channel> channelType;
    private final SslContext ssl;
    private final SslContext sslH2;
    private final AddressResolverGroup<InetSocketAddress> resolver;
    // Updated by every request on every event loop: adders, not one contended cache line.
    private final LongAdder openConnections = new LongAdder();
    private final LongAdder idleConnections = new LongAdder();
    private final ProxyMetrics.Breakers breakers;
    private final LongAdder poolCount = new LongAdder();
    private final FastThreadLocal<Map<String, ConnectionPool>> perLoop = new FastThreadLocal<>();
    private final FastThreadLocal<Map<String, Long>> http1Only = new FastThreadLocal<>() {
        @Override
        protected Map<String, Long> initialValue() {
            return new HashMap<>();
        }
    };

    /** {@code sslH2}: for HTTP/2 to https upstreams, offering only {@code h2} by ALPN. */
    public UpstreamPools(ProxyConfig.Upstream settings, Class<? extends Channel> channelType, SslContext ssl,
                         SslContext sslH2, AddressResolverGroup<InetSocketAddress> resolver, ProxyMetrics metrics) {
        this.settings = settings;
        this.channelType = channelType;
        this.ssl = ssl;
        this.sslH2 = sslH2;
        this.resolver = resolver;
        this.breakers = metrics.breakers("upstream");
        metrics.gauge("tm_upstream_connections_open", "upstream connections open, in use or pooled", openConnections::sum);
        metrics.gauge("tm_upstream_connections_idle", "upstream connections waiting in a pool", idleConnections::sum);
        metrics.gauge("tm_upstream_pools", "upstream connection pools (one per upstream and event loop)", poolCount::sum);
    }

    /** The calling event loop's pool for {@code target} in {@code protocol}; call only on {@code loop}. */
    public ConnectionPool pool(EventLoop loop, UpstreamTarget target, UpstreamProtocol protocol) {
        Map<String, ConnectionPool> pools = perLoop.get();
        long evictAfter = settings.poolEvictAfter().toNanos();
        if (pools == null) {
            pools = new LinkedHashMap<>(16, 0.75f, true); // access order: the least recently used first
            perLoop.set(pools);
            Map<String, ConnectionPool> mine = pools;
            loop.scheduleAtFixedRate(() -> evict(mine, System.nanoTime() - evictAfter, MAX_POOLS_PER_LOOP),
                    evictAfter / 2, evictAfter / 2, TimeUnit.NANOSECONDS);
        }
        String key = protocol == UpstreamProtocol.H2 ? target.h2PoolKey() : target.poolKey();
        ConnectionPool pool = pools.get(key);
        if (pool == null) {
            if (pools.size() >= MAX_POOLS_PER_LOOP) {
                evict(pools, System.nanoTime() - evictAfter, MAX_POOLS_PER_LOOP - 1);
            }
            pool = protocol == UpstreamProtocol.H2 ? createMultiplexed(loop, target) : create(loop, target);
            pools.put(key, pool);
            poolCount.increment();
        }
        return pool;
    }

    /**
     * Drops pools without connections (and their breakers) from the least recently used end: those
     * unused since {@code cutoffNanos}, and while more than {@code max} remain, the oldest others.
     * Without it every upstream and outside host ever called would keep one per event loop. A pool
     * with connections stays; it becomes droppable once they close (after the pool idle timeout).
     */
    private void evict(Map<String, ConnectionPool> pools, long cutoffNanos, int max) {
        for (Iterator<ConnectionPool> oldestFirst = pools.values().iterator(); oldestFirst.hasNext(); ) {
            ConnectionPool pool = oldestFirst.next();
            if (pool.lastUsedNanos() - cutoffNanos >= 0 && pools.size() <= max) {
                return; // this one and all after it were used since the cutoff
            }
            if (pool.idle()) {
                oldestFirst.remove();
                poolCount.decrement();
            }
        }
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

    /**
     * Whether {@code target} answered HTTP/2's preface like an HTTP/1.1 server within
     * {@link #HTTP1_ONLY_NANOS}, from this event loop; call only on an event loop.
     */
    public boolean speaksOnlyHttp1(UpstreamTarget target) {
        Map<String, Long> known = http1Only.get();
        if (known.isEmpty()) {
            return false;
        }
        Long until = known.get(target.poolKey());
        if (until != null && System.nanoTime() - until > 0) {
            known.remove(target.poolKey());
            return false;
        }
        return until != null;
    }

    private void markHttp1Only(UpstreamTarget target) {
        Map<String, Long> known = http1Only.get();
        if (known.size() >= MAX_HTTP1_ONLY) {
            known.clear(); // they are asked again: a bound, not a loss
        }
        known.put(target.poolKey(), System.nanoTime() + HTTP1_ONLY_NANOS);
        log.info("upstream {} does not speak h2c: HTTP/2 clients of its auto routes get HTTP/1.1 to it for {} min",
                target.poolKey(), TimeUnit.NANOSECONDS.toMinutes(HTTP1_ONLY_NANOS));
    }

    /**
     * HTTP/2 with prior knowledge: {@link PipelineLayout#UPSTREAM_HTTP2} per connection,
     * {@link PipelineLayout#UPSTREAM_STREAM} per stream. Server push is refused in our SETTINGS.
     */
    private ConnectionPool createMultiplexed(EventLoop loop, UpstreamTarget target) {
        Bootstrap bootstrap = bootstrap(loop).option(ChannelOption.AUTO_READ, true); // streams apply the backpressure
        MultiplexedPool[] pool = new MultiplexedPool[1];
        ChannelInitializer<Channel> streams = new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                PipelineLayout.UPSTREAM_STREAM.assemble(ch.pipeline(), new Http2StreamFrameToHttpObjectCodec(false),
                        new UpstreamHandler(pool[0], settings.streamIdleTimeout().toNanos(), settings.poolIdleTimeout().toNanos()));
            }
        };
        pool[0] = new MultiplexedPool(target, bootstrap, settings.maxConnections(), settings.poolIdleTimeout().toNanos(),
                openConnections, breaker(target.h2PoolKey()), streams, () -> markHttp1Only(target));
        bootstrap.handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                PipelineLayout.UPSTREAM_HTTP2.assemble(ch.pipeline(),
                        target.https() ? sslH2.newHandler(ch.alloc(), target.host(), target.port()) : null,
                        Http2FrameCodecBuilder.forClient().initialSettings(Http2Settings.defaultSettings()
                                .pushEnabled(false).maxHeaderListSize(65536)
                                .initialWindowSize(UpstreamProtocol.STREAM_WINDOW)).build(),
                        new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()),
                        new Http2Connection.Handler());
            }
        });
        return pool[0];
    }

    /** A pool's breaker, named for it; its transitions and rejections counted with all upstreams'. */
    private UpstreamBreaker breaker(String poolKey) {
        return new UpstreamBreaker(new CircuitBreaker("upstream " + poolKey, settings.breaker(), System::nanoTime,
                breakers.listener()), breakers.rejections());
    }

    private UpstreamPool create(EventLoop loop, UpstreamTarget target) {
        Bootstrap bootstrap = bootstrap(loop);
        UpstreamPool pool = new UpstreamPool(target, bootstrap, settings.maxConnections(), openConnections, idleConnections,
                breaker(target.poolKey()));
        bootstrap.handler(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                PipelineLayout.UPSTREAM.assemble(ch.pipeline(),
                        target.https() ? ssl.newHandler(ch.alloc(), target.host(), target.port()) : null,
                        new HttpClientCodec(new HttpDecoderConfig()
                                .setMaxInitialLineLength(8192).setMaxHeaderSize(65536).setMaxChunkSize(65536), false, false),
                        new UpstreamHandler(pool, settings.streamIdleTimeout().toNanos(), settings.poolIdleTimeout().toNanos()));
            }
        });
        return pool;
    }
}
