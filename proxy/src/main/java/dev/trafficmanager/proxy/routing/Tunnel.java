package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.http.PipelineLayout;
import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A CONNECT tunnel to an outside host (what clients with {@code HTTPS_PROXY} ask for). Once the TCP
 * connection to the host is up, the client gets {@code 200 Connection Established}, the client
 * connection's HTTP codec and proxy handler leave its pipeline, and bytes are relayed both ways as
 * they are, each side reading again only once its last write went out. The tunnel closes when
 * either side closes, or when no byte has passed either way for the client idle timeout. While
 * open it counts as a request in flight, so a drain waits for it (up to the drain timeout).
 * Runs on the client connection's event loop; the upstream connection is opened on the same one.
 */
final class Tunnel {
    private static final Logger log = LoggerFactory.getLogger(Tunnel.class);
    private static final byte[] ESTABLISHED = "HTTP/1.1 200 Connection Established\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private final ProxyHandler connection;
    private final ChannelHandlerContext ctx;
    private final ProxyServices services;
    private final UpstreamTarget target;
    private final boolean clientKeepAlive;

    /** {@code clientKeepAlive}: whether the CONNECT request lets the connection live on after a refusal. */
    Tunnel(ProxyHandler connection, ChannelHandlerContext ctx, ProxyServices services, UpstreamTarget target,
           boolean clientKeepAlive) {
        this.connection = connection;
        this.ctx = ctx;
        this.services = services;
        this.target = target;
        this.clientKeepAlive = clientKeepAlive;
    }

    void open() {
        services.drain().started();
        Channel client = ctx.channel();
        services.pools().connectRaw(client.eventLoop(), target, new Relay(client)).addListener((ChannelFuture f) -> {
            if (!f.isSuccess()) {
                services.drain().ended();
                connection.tunnelFailed(HttpResponseStatus.BAD_GATEWAY, "upstream_unreachable",
                        "cannot connect to " + target.host() + ":" + target.port() + ": " + Failures.describe(f.cause()),
                        clientKeepAlive);
            } else if (!client.isActive()) {
                services.drain().ended();
                f.channel().close();
            } else {
                established(client, f.channel());
            }
        });
    }

    private void established(Channel client, Channel upstream) {
        services.metrics().passThrough("connect");
        services.metrics().response(200);
        takeOver(connection, client, upstream, services, services.clientIdleTimeoutNanos());
        client.writeAndFlush(Unpooled.wrappedBuffer(ESTABLISHED));
        relay(client, upstream);
    }

    /**
     * An upgrade the upstream accepted (WebSocket...): its 101 and the end of it are written to the
     * client, and both connections become a tunnel, idle for at most {@code TM_TUNNEL_IDLE_TIMEOUT_MS}.
     * Runs inside the upstream connection's read: its HTTP codec leaves only after the relay is in
     * place, so bytes the upstream sent right after its 101 go on to the client.
     */
    static void upgraded(ProxyHandler connection, Channel client, Channel upstream, ProxyServices services,
                         String protocol) {
        services.metrics().upgraded(protocol);
        services.drain().started(); // until the tunnel closes
        takeOver(connection, client, upstream, services, services.client().tunnelIdleTimeout().toNanos());
        upstream.pipeline().addLast(PipelineLayout.TUNNEL.name(1), new Relay(client));
        upstream.pipeline().remove(PipelineLayout.UPSTREAM.name(1));
        relay(client, upstream);
    }

    /** The client connection's HTTP handlers make way for a relay to {@code upstream}, which is counted open until it closes. */
    private static void takeOver(ProxyHandler connection, Channel client, Channel upstream, ProxyServices services,
                                 long idleNanos) {
        LongAdder open = services.metrics().tunnelsOpen();
        open.increment();
        client.closeFuture().addListener(f -> {
            open.decrement();
            services.drain().ended();
        });
        connection.handOver();
        ChannelPipeline pipeline = client.pipeline();
        PipelineLayout.TUNNEL.assemble(pipeline, new IdleStateHandler(0, 0, idleNanos, TimeUnit.NANOSECONDS),
                new Relay(upstream));
        pipeline.remove(ProxyInitializer.PROXY);
        // Bytes the decoder holds undecoded go on to the relay; a client that sent more before the
        // answer (not waiting, as it must) had it decoded as HTTP, and ProxyHandler closed on it.
        pipeline.remove(ProxyInitializer.HTTP);
    }

    private static void relay(Channel client, Channel upstream) {
        client.read();
        upstream.read();
    }

    /**
     * Writes what its channel reads to {@code peer} and reads again once that write went out;
     * closes the peer (after what is queued for it) when its own channel closes. Per channel.
     */
    static final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel peer;

        Relay(Channel peer) {
            this.peer = peer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            // A write to a closed peer fails and releases msg.
            peer.writeAndFlush(msg).addListener(f -> {
                if (f.isSuccess()) {
                    ctx.read();
                } else {
                    ctx.close();
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (peer.isActive()) {
                peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            if (event instanceof IdleStateEvent) {
                log.debug("tunnel {} idle: closing", ctx.channel());
                ctx.close();
            } else {
                ctx.fireUserEventTriggered(event);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof IOException) {
                log.debug("tunnel {} failed: {}", ctx.channel(), cause.toString());
            } else {
                log.warn("tunnel {} failed", ctx.channel(), cause);
            }
            ctx.close();
        }
    }
}
