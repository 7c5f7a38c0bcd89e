package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.ProxyConfig;
import io.netty.channel.ChannelInitializer;
import dev.trafficmanager.http.PipelineLayout;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;

/**
 * Assembles a client connection's pipeline, {@link PipelineLayout#PROXY}. Bodies are never
 * aggregated: the proxy handler streams them. A CONNECT tunnel, once its upstream connection is up,
 * replaces both handlers with {@link PipelineLayout#TUNNEL} ({@link Tunnel}).
 */
public final class ProxyInitializer extends ChannelInitializer<Channel> {
    public static final String HTTP = PipelineLayout.PROXY.name(0);
    public static final String PROXY = PipelineLayout.PROXY.name(1);

    private final ProxyServices services;
    private final ProxyConfig config;

    public ProxyInitializer(ProxyServices services, ProxyConfig config) {
        this.services = services;
        this.config = config;
    }

    @Override
    protected void initChannel(Channel ch) {
        PipelineLayout.PROXY.assemble(ch.pipeline(),
                new HttpServerCodec(new HttpDecoderConfig()
                        .setMaxInitialLineLength(config.maxInitialLine())
                        .setMaxHeaderSize(config.maxHeaderSize())
                        .setMaxChunkSize(65536)),
                new ProxyHandler(services));
    }
}
