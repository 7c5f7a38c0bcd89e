package dev.trafficmanager.proxy.agent;

import dev.trafficmanager.proxy.Transport;
import dev.trafficmanager.proxy.lookup.EntryCodec;
import dev.trafficmanager.proxy.lookup.Resolver;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.lookup.RouteKeyProbe;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.routing.TenantPolicy;
import io.micrometer.core.instrument.Counter;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent's Unix domain socket: answers the lookups of the node's sidecars on a miss in the
 * L1 file they share, from the agent's near cache and L1 when fresh, else from Redis and PostgreSQL
 * through its resolver. Keys of tenants the agent does not serve are refused. An answer only a
 * stale entry could give is a failure: the sidecar then serves its own last known entry (counted
 * there) or answers 503, as it would with PostgreSQL down.
 */
public final class AgentServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentServer.class);

    private final EventLoopGroup group;
    private final Channel channel;
    private final Path socket;
    private final ChannelGroup clients = new DefaultChannelGroup("agent-clients", GlobalEventExecutor.INSTANCE);

    private AgentServer(Path socket, Resolver resolver, TenantPolicy tenants, ProxyMetrics metrics, int threads)
            throws InterruptedException {
        this.socket = socket;
        prepare(socket);
        group = Transport.select(Transport.EPOLL).group(threads, "agent");
        Counter lookups = metrics.counter("tm_agent_lookups", "lookups the node agent answered for its sidecars");
        Counter refused = metrics.counter("tm_agent_lookups_failed",
                "sidecar lookups the node agent could not answer (no tier answered, or a tenant it does not serve)");
        metrics.gauge("tm_agent_sidecars", "sidecars connected to the node agent's socket", clients::size);
        try {
            channel = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            clients.add(ch);
                            AgentProtocol.assemble(ch.pipeline(), new Lookups(resolver, tenants, lookups, refused));
                        }
                    })
                    .bind(new DomainSocketAddress(socket.toFile())).sync().channel();
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
        log.info("node agent listening on {}", socket);
    }

    public static AgentServer start(Path socket, Resolver resolver, TenantPolicy tenants, ProxyMetrics metrics,
                                    int threads) throws InterruptedException {
        return new AgentServer(socket, resolver, tenants, metrics, threads);
    }

    /** Creates the socket's folder and removes a socket file a previous agent left behind. */
    private static void prepare(Path socket) {
        try {
            Files.createDirectories(socket.toAbsolutePath().getParent());
            if (Files.deleteIfExists(socket)) {
                log.info("removed the socket {} a previous agent left", socket);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the agent socket " + socket
                    + " (TM_AGENT_SOCKET): " + e.getMessage(), e);
        }
    }

    /** One sidecar's connection: each request answered on its own, in any order. */
    private static final class Lookups extends SimpleChannelInboundHandler<ByteBuf> {
        private final Resolver resolver;
        private final TenantPolicy tenants;
        private final Counter lookups;
        private final Counter refused;
        private final RouteKeyProbe probe = new RouteKeyProbe();

        Lookups(Resolver resolver, TenantPolicy tenants, Counter lookups, Counter refused) {
            this.resolver = resolver;
            this.tenants = tenants;
            this.lookups = lookups;
            this.refused = refused;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            if (frame.readableBytes() < 5) {
                ctx.close(); // not our protocol
                return;
            }
            int id = frame.readInt();
            byte kind = frame.readByte();
            String key = frame.toString(StandardCharsets.US_ASCII);
            lookups.increment();
            if (kind != AgentProtocol.LOOKUP) {
                fail(ctx, id, "unknown request " + kind);
                return;
            }
            try {
                probe.setKey(key);
            } catch (IllegalArgumentException e) { // InvalidRouteException included
                fail(ctx, id, "not a route key: " + e.getMessage());
                return;
            }
            if (!tenants.allows(probe.tenant())) {
                fail(ctx, id, "the node agent does not serve tenant " + probe.tenant() + " (TM_ALLOWED_TENANTS)");
                return;
            }
            RouteEntry cached = resolver.cached(probe);
            if (cached != null) {
                found(ctx, id, cached);
                return;
            }
            resolver.resolve(key).whenComplete((resolution, error) -> {
                if (error != null) {
                    fail(ctx, id, Resolver.describe(error));
                } else if (resolution.stale()) {
                    fail(ctx, id, "no tier could confirm " + key + " (the agent holds only a stale entry)");
                } else {
                    found(ctx, id, resolution.entry());
                }
            });
        }

        private void found(ChannelHandlerContext ctx, int id, RouteEntry entry) {
            ctx.writeAndFlush(AgentProtocol.frame(ctx.alloc().buffer(), id, AgentProtocol.FOUND, EntryCodec.encode(entry)));
        }

        private void fail(ChannelHandlerContext ctx, int id, String message) {
            refused.increment();
            ctx.writeAndFlush(AgentProtocol.frame(ctx.alloc().buffer(), id, AgentProtocol.FAILED, AgentProtocol.text(message)));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("agent connection: {}", cause.toString());
            ctx.close();
        }
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2000);
        clients.close().awaitUninterruptibly(2000);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5000);
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.warn("cannot remove the agent socket {}: {}", socket, e.toString());
        }
    }
}
