package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.ProxyConfig;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;

/**
 * Assembles a client connection's pipeline:
 * <pre>
 *   socket -> http (HttpServerCodec: limits, 431/414 on excess) -> proxy (ProxyHandler, with the idle and response timeouts)
 * </pre>
 * Bodies are never aggregated: the proxy handler streams them. A CONNECT tunnel, once its upstream
 * connection is up, replaces both handlers ({@link Tunnel}):
 * <pre>
 *   socket -> tunnel-idle (IdleStateHandler) -> tunnel (Tunnel.Relay, bytes to the upstream connection)
 * </pre>
 */
public final class ProxyInitializer extends ChannelInitializer<SocketChannel> {
    public static final String HTTP = "http";
    public static final String PROXY = "proxy";
    public static final String TUNNEL_IDLE = "tunnel-idle";
    public static final String TUNNEL = "tunnel";

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
                .addLast(PROXY, new ProxyHandler(services));
    }
}
