package dev.trafficmanager.proxy.admin;

import dev.trafficmanager.http.PipelineLayout;
import dev.trafficmanager.proxy.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The sidecar's admin port: one event loop of its own, so a busy proxy port never delays a health
 * check. Pipeline: {@code codec -> aggregator (8 KiB) -> admin}.
 */
public final class AdminServer implements AutoCloseable {
    private final EventLoopGroup group;
    private final Channel channel;

    private AdminServer(EventLoopGroup group, Channel channel) {
        this.group = group;
        this.channel = channel;
    }

    public static AdminServer start(Transport transport, String host, int port, Supplier<AdminHandler> handlers)
            throws InterruptedException {
        EventLoopGroup group = transport.group(1, "admin");
        try {
            Channel channel = new ServerBootstrap().group(group).channel(transport.serverChannel())
                    .childHandler(initializer(handlers))
                    .bind(new InetSocketAddress(host, port)).sync().channel();
            return new AdminServer(group, channel);
        } catch (InterruptedException | RuntimeException e) {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** An admin connection's pipeline, {@link PipelineLayout#ADMIN}. */
    public static ChannelInitializer<Channel> initializer(Supplier<AdminHandler> handlers) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                PipelineLayout.ADMIN.assemble(ch.pipeline(), new HttpServerCodec(4096, 8192, 8192),
                        new HttpObjectAggregator(8192), handlers.get());
            }
        };
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2000);
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5000);
    }
}
