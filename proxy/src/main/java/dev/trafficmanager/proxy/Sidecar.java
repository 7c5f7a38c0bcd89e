package dev.trafficmanager.proxy;

import dev.trafficmanager.proxy.balancing.Balancer;
import dev.trafficmanager.proxy.admin.AdminHandler;
import dev.trafficmanager.proxy.admin.AdminServer;
import dev.trafficmanager.proxy.lookup.Resolver;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.observe.AccessLog;
import dev.trafficmanager.proxy.observe.Observer;
import dev.trafficmanager.proxy.routing.Drain;
import dev.trafficmanager.proxy.routing.ProxyInitializer;
import dev.trafficmanager.proxy.routing.ProxyServices;
import dev.trafficmanager.proxy.routing.RequestRouter;
import dev.trafficmanager.proxy.routing.TenantBulkhead;
import dev.trafficmanager.proxy.upstream.UpstreamPools;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole sidecar, wired by hand: its route tiers ({@link RouteTiers}: with the stores, or through
 * the node agent in node mode), the proxy port and the admin port. {@link #close()} stops it gracefully: not ready, responses
 * say Connection: close, requests keep being served until none has been in flight for a second
 * (within the drain timeout), then everything shuts down.
 */
public final class Sidecar implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Sidecar.class);
    /** A drain ends once no request has been in flight this long. */
    private static final Duration DRAIN_QUIET = Duration.ofSeconds(1);

    private final ProxyConfig config;
    private final ProxyMetrics metrics;
    private final RouteTiers tiers;
    private final Resolver resolver;
    private final Drain drain = new Drain();
    private final EventLoopGroup loops;
    private final DnsAddressResolverGroup dns;
    private final Channel server;
    private final AdminServer admin;
    private final String transportName;
    private final Observer observer;

    private Sidecar(ProxyConfig config, Path agentSocket, LongSupplier clock) throws InterruptedException, SSLException {
        this.config = config;
        Transport transport = Transport.select(config.transport());
        transportName = transport.name();
        metrics = new ProxyMetrics();
        tiers = agentSocket == null ? RouteTiers.withStores(config, metrics, clock)
                : RouteTiers.throughAgent(config, agentSocket, metrics, clock);
        resolver = tiers.resolver();

        loops = transport.group(config.eventLoops(), "proxy");
        dns = new DnsAddressResolverGroup(new DnsNameResolverBuilder()
                .datagramChannelType(transport.datagramChannel())
                .socketChannelType(transport.socketChannel()));
        SslContextBuilder tls = SslContextBuilder.forClient().endpointIdentificationAlgorithm("HTTPS");
        if (config.upstream().caFile() != null) {
            tls.trustManager(new java.io.File(config.upstream().caFile()));
        }
        SslContext ssl = tls.build();
        // HTTP/2 over TLS offers h2 and HTTP/1.1 by ALPN; a server that picks HTTP/1.1 (or ignores ALPN) is found out
        // after the handshake, and the request goes over HTTP/1.1 instead (MultiplexedPool).
        SslContext sslH2 = tls.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2,
                ApplicationProtocolNames.HTTP_1_1)).build();
        UpstreamPools pools = new UpstreamPools(config.upstream(), transport.socketChannel(), ssl, sslH2, dns, metrics);
        RequestRouter router = new RequestRouter(config.headers(), config.defaults(), config.tenants(), config.outbound());
        observer = new Observer(AccessLog.open(config.observe(),
                metrics.counter("tm_access_log_lines", "access log lines written"),
                metrics.counter("tm_access_log_dropped", "access log lines dropped: the writer's queue was full or a write failed")),
                config.observe());
        ProxyServices services = new ProxyServices(resolver, router, pools, metrics, drain, config.upstream(),
                config.clientLimits(),
                new TenantBulkhead(config.tenantMaxInFlight()),
                new Balancer(config.upstream().balancing(), metrics, System::nanoTime), observer);
        server = bindProxy(transport, loops, services, config);
        admin = AdminServer.start(transport, config.adminBind(), config.adminPort(),
                () -> new AdminHandler(metrics, resolver, router, this::notReady, this::unhealthy));
        log.info("sidecar proxy on {}:{} ({}, {} event loops), admin on {}:{}, L1 {} ({} entries){}", config.bind(), port(),
                transport.name(), config.eventLoops(), config.adminBind(), admin.port(), config.l1File(), tiers.l1().size(),
                agentSocket == null ? "" : ", node mode: the node agent at " + agentSocket + " looks routes up");
    }

    /** The proxy port's listener on {@code loops}, serving with {@code services} (also used by the benchmarks). */
    public static Channel bindProxy(Transport transport, EventLoopGroup loops, ProxyServices services, ProxyConfig config)
            throws InterruptedException {
        return new ServerBootstrap().group(loops).channel(transport.serverChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, Transport.ALLOCATOR)
                .childHandler(new ProxyInitializer(services, config))
                .bind(new InetSocketAddress(config.bind(), config.port())).sync().channel();
    }

    public static Sidecar start(ProxyConfig config) throws InterruptedException, SSLException {
        return start(config, System::currentTimeMillis);
    }

    /** With an injectable wall clock (epoch milliseconds), for tests of TTLs. */
    public static Sidecar start(ProxyConfig config, LongSupplier clock) throws InterruptedException, SSLException {
        return new Sidecar(config, null, clock);
    }

    /** In node mode: routes from the L1 file and socket of the node agent at {@code agentSocket}. */
    public static Sidecar inNodeMode(ProxyConfig config, Path agentSocket) throws InterruptedException, SSLException {
        return new Sidecar(config, agentSocket, System::currentTimeMillis);
    }

    /** Why traffic should not come here yet, or null when ready. */
    private String notReady() {
        if (drain.draining()) {
            return "shutting down";
        }
        String broken = unhealthy();
        return broken != null ? broken : tiers.notReady();
    }

    /** Why the sidecar is broken in a way only a restart mends (a background thread died), or null. */
    private String unhealthy() {
        return tiers.unhealthy();
    }

    public boolean ready() {
        return notReady() == null;
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    public int adminPort() {
        return admin.port();
    }

    /** The I/O transport the sidecar runs on: epoll, io_uring or nio. */
    public String transport() {
        return transportName;
    }

    public ProxyMetrics metrics() {
        return metrics;
    }

    public Resolver resolver() {
        return resolver;
    }

    /** Whether this sidecar talks to Kafka, Redis and PostgreSQL itself (false in node mode). */
    public boolean usesStores() {
        return tiers.usesStores();
    }

    @Override
    public void close() {
        drain.start();
        try {
            if (!drain.awaitQuiet(DRAIN_QUIET, config.drainTimeout())) {
                log.warn("drain timeout: closing {} requests still in flight", drain.inFlight());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.close().awaitUninterruptibly(2000);
        drain.closeAll();
        admin.close();
        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5000);
        observer.close(); // after the loops: every ended request's line is queued
        dns.close();
        tiers.close();
        metrics.close();
        log.info("sidecar stopped");
    }
}
