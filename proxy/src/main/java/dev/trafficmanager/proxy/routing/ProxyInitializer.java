package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.http.PipelineLayout;
import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.upstream.UpstreamProtocol;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * Assembles a client connection's pipeline: {@link PipelineLayout#PROXY}, whose
 * {@link ProtocolDetector} then installs {@link PipelineLayout#PROXY_HTTP1} or
 * {@link PipelineLayout#PROXY_HTTP2} (with {@link PipelineLayout#PROXY_STREAM} per stream, each
 * stream one request for its own {@link ProxyHandler}). Bodies are never aggregated: the proxy
 * handler streams them. A CONNECT tunnel or an accepted upgrade replaces PROXY_HTTP1's handlers
 * with {@link PipelineLayout#TUNNEL} ({@link Tunnel}).
 */
public final class ProxyInitializer extends ChannelInitializer<Channel> {
    public static final String HTTP = PipelineLayout.PROXY_HTTP1.name(0);
    public static final String PROXY = PipelineLayout.PROXY_HTTP1.name(1);
    /** RST_STREAM frames a client may send in this many seconds before GOAWAY (the "rapid reset" attack). */
    static final int MAX_RESETS = 200;
    static final int RESET_WINDOW_SECONDS = 30;

    private final ProxyServices services;
    private final ProxyConfig config;
    private final ChannelInitializer<Channel> streams = new ChannelInitializer<>() {
        @Override
        protected void initChannel(Channel stream) {
            stream.config().setAutoRead(false); // ProxyHandler reads as the exchange allows: the stream's flow control
            PipelineLayout.PROXY_STREAM.assemble(stream.pipeline(), new Http2StreamFrameToHttpObjectCodec(true),
                    new ProxyHandler(services));
        }
    };

    public ProxyInitializer(ProxyServices services, ProxyConfig config) {
        this.services = services;
        this.config = config;
    }

    @Override
    protected void initChannel(Channel ch) {
        PipelineLayout.PROXY.assemble(ch.pipeline(), new ProtocolDetector(this, services.clientIdleTimeoutNanos()));
    }

    void http1(ChannelPipeline pipeline) {
        PipelineLayout.PROXY_HTTP1.assemble(pipeline,
                new HttpServerCodec(new HttpDecoderConfig()
                        .setMaxInitialLineLength(config.maxInitialLine())
                        .setMaxHeaderSize(config.maxHeaderSize())
                        .setMaxChunkSize(65536)),
                new ProxyHandler(services));
    }

    /**
     * The connection reads on its own from here on (every stream's flow-control window bounds what
     * it may buffer); each stream reads only when its exchange asks.
     */
    void http2(ChannelPipeline pipeline) {
        PipelineLayout.PROXY_HTTP2.assemble(pipeline,
                new IdleStateHandler(0, 0, services.clientIdleTimeoutNanos(), TimeUnit.NANOSECONDS),
                Http2FrameCodecBuilder.forServer()
                        .initialSettings(Http2Settings.defaultSettings()
                                .maxConcurrentStreams(UpstreamProtocol.MAX_STREAMS)
                                .initialWindowSize(UpstreamProtocol.STREAM_WINDOW)
                                .maxHeaderListSize(config.maxHeaderSize()))
                        .decoderEnforceMaxRstFramesPerWindow(MAX_RESETS, RESET_WINDOW_SECONDS)
                        .gracefulShutdownTimeoutMillis(2000)
                        .build(),
                new Http2MultiplexHandler(streams),
                new Http2Guard(services.drain()));
        pipeline.channel().config().setAutoRead(true);
    }
}
