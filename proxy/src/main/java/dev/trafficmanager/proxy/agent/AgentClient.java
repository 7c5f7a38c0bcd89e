package dev.trafficmanager.proxy.agent;

import dev.trafficmanager.proxy.Transport;
import dev.trafficmanager.proxy.lookup.EntryCodec;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.lookup.RouteSource;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Tier;
import io.micrometer.core.instrument.Counter;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sidecar's source of truth in node mode: lookups go to the node agent over its Unix domain
 * socket, many in flight on one connection. While the agent is away (not started, restarting) a
 * lookup fails at once, so the sidecar serves what L1 holds or answers 503 without waiting; the
 * client reconnects by itself, every 100 ms at first, then every second.
 */
public final class AgentClient implements RouteSource {
    private static final Logger log = LoggerFactory.getLogger(AgentClient.class);
    private static final long FIRST_RETRY_MILLIS = 100;
    private static final long MAX_RETRY_MILLIS = 1000;

    private record Pending(String key, CompletableFuture<RouteEntry> answer) {
    }

    private final Path socket;
    private final Duration timeout;
    private final EventLoopGroup group;
    private final Bootstrap bootstrap;
    private final ConcurrentHashMap<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    private final Counter reconnects;
    private volatile Channel channel;
    private volatile boolean everConnected;
    private volatile boolean closed;
    private long retryMillis = FIRST_RETRY_MILLIS;

    public AgentClient(Path socket, Duration timeout, ProxyMetrics metrics) {
        this.socket = socket;
        this.timeout = timeout;
        this.group = Transport.select(Transport.EPOLL).group(1, "agent-client");
        this.reconnects = metrics.counter("tm_agent_reconnects", "connections made to the node agent after losing one");
        metrics.gauge("tm_agent_connected", "1 while the sidecar is connected to its node agent", () -> connected() ? 1 : 0);
        this.bootstrap = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        AgentProtocol.assemble(ch.pipeline(), new Answers());
                    }
                });
        group.execute(this::connect);
    }

    public boolean connected() {
        Channel current = channel;
        return current != null && current.isActive();
    }

    /** Whether the agent was ever reached: until then a new sidecar is not ready. */
    public boolean everConnected() {
        return everConnected;
    }

    public Path socket() {
        return socket;
    }

    @Override
    public Tier tier() {
        return Tier.AGENT;
    }

    @Override
    public CompletionStage<RouteEntry> fetch(String key) {
        Channel current = channel;
        if (current == null || !current.isActive()) {
            return CompletableFuture.failedFuture(new IOException("the node agent is not reachable at " + socket));
        }
        int id = ids.incrementAndGet();
        CompletableFuture<RouteEntry> answer = new CompletableFuture<>();
        pending.put(id, new Pending(key, answer));
        answer.whenComplete((entry, error) -> pending.remove(id));
        ByteBuf request = AgentProtocol.frame(current.alloc().buffer(), id, AgentProtocol.LOOKUP,
                key.getBytes(StandardCharsets.US_ASCII));
        current.writeAndFlush(request).addListener(written -> {
            if (!written.isSuccess()) {
                answer.completeExceptionally(new IOException("cannot ask the node agent: " + written.cause()));
            }
        });
        return answer.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** On the client's event loop. */
    private void connect() {
        if (closed) {
            return;
        }
        bootstrap.connect(new DomainSocketAddress(socket.toFile())).addListener((ChannelFuture made) -> {
            if (!made.isSuccess()) {
                retryLater();
                return;
            }
            Channel ch = made.channel();
            channel = ch;
            retryMillis = FIRST_RETRY_MILLIS;
            if (everConnected) {
                reconnects.increment();
                log.info("connected to the node agent at {} again", socket);
            } else {
                log.info("connected to the node agent at {}", socket);
            }
            everConnected = true;
            ch.closeFuture().addListener(gone -> lost(ch));
        });
    }

    private void lost(Channel ch) {
        if (channel == ch) {
            channel = null;
        }
        IOException gone = new IOException("the connection to the node agent closed");
        pending.values().forEach(p -> p.answer().completeExceptionally(gone));
        if (!closed) {
            log.warn("lost the node agent at {}: serving what L1 holds, reconnecting", socket);
            retryLater();
        }
    }

    private void retryLater() {
        if (!closed) {
            long wait = retryMillis;
            retryMillis = Math.min(MAX_RETRY_MILLIS, retryMillis * 2);
            group.schedule(this::connect, wait, TimeUnit.MILLISECONDS);
        }
    }

    /** The agent's answers, matched to their requests by id. */
    private final class Answers extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
            if (frame.readableBytes() < 5) {
                ctx.close();
                return;
            }
            Pending waiting = pending.remove(frame.readInt());
            byte kind = frame.readByte();
            if (waiting == null) {
                return; // timed out meanwhile
            }
            if (kind == AgentProtocol.FOUND) {
                byte[] bytes = ByteBufUtil.getBytes(frame);
                RouteEntry entry = EntryCodec.decode(waiting.key(), bytes, bytes.length);
                if (entry != null) {
                    waiting.answer().complete(entry);
                } else {
                    waiting.answer().completeExceptionally(new IOException("the node agent's answer does not decode"));
                }
            } else {
                waiting.answer().completeExceptionally(
                        new IOException("node agent: " + frame.toString(StandardCharsets.UTF_8)));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("agent connection: {}", cause.toString());
            ctx.close();
        }
    }

    @Override
    public void close() {
        closed = true;
        Channel current = channel;
        if (current != null) {
            current.close().awaitUninterruptibly(1000);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3000);
    }
}
