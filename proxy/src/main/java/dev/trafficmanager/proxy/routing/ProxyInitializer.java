package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.ProxyConfig;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * Assembles a client connection's pipeline:
 * <pre>
 *   socket -> http (HttpServerCodec: limits, 431/414 on excess) -> idle (client idle timeout) -> proxy (ProxyHandler)
 * </pre>
 * Bodies are never aggregated: the proxy handler streams them.
 */
public final class ProxyInitializer extends ChannelInitializer<SocketChannel> {
    public static final String HTTP = "http";
    public static final String IDLE = "idle";
    public static final String PROXY = "proxy";

    private final ProxyServices services;
    private final ProxyConfig config;

    public ProxyInitializer(ProxyServices services, ProxyConfig config) {
        this.services = services;
        this.config = config;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ch.pipeline()
                .addLast(HTTP, new HttpServerCodec(new HttpDecoderConfig()
                        .setMaxInitialLineLength(config.maxInitialLine())
                        .setMaxHeaderSize(config.maxHeaderSize())
                        .setMaxChunkSize(65536)))
                .addLast(IDLE, new IdleStateHandler(0, 0, config.clientIdleTimeout().toMillis(), TimeUnit.MILLISECONDS))
                .addLast(PROXY, new ProxyHandler(services));
    }
}
