package dev.trafficmanager.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.proxy.balancing.Balancer;
import dev.trafficmanager.http.PipelineLayout;
import dev.trafficmanager.proxy.H2Upstream;
import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.admin.AdminHandler;
import dev.trafficmanager.proxy.admin.AdminServer;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.upstream.ResponseListener;
import dev.trafficmanager.proxy.upstream.UpstreamPools;
import dev.trafficmanager.proxy.upstream.UpstreamProtocol;
import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpObject;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Each pipeline the sidecar builds is the one its {@link PipelineLayout} (and diagram) names. */
class PipelinesTest {
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final ProxyConfig config = ProxyConfig.fromEnv(Map.of("TM_TENANT", "team", "TM_ENV", "prod"));
    private final UpstreamPools pools = new UpstreamPools(config.upstream(), NioSocketChannel.class, null, null, null, metrics);
    private final ProxyServices services = new ProxyServices(null, null, pools, metrics, new Drain(), config.upstream(),
            config.clientLimits(), TenantBulkhead.OFF, new Balancer(config.upstream().balancing(), metrics, System::nanoTime));

    /** The handlers' names without Netty's tail. */
    private static List<String> names(ChannelPipeline pipeline) {
        List<String> names = pipeline.names();
        return names.subList(0, names.size() - 1);
    }

    @Test
    void theProxyPortPipelineMatchesItsLayout() {
        EmbeddedChannel channel = new EmbeddedChannel(new ProxyInitializer(services, config));
        assertThat(names(channel.pipeline())).isEqualTo(PipelineLayout.PROXY.names(false));
        channel.finishAndReleaseAll();
    }

    @Test
    void anHttp11ClientGetsTheHttp1Layout() {
        EmbeddedChannel channel = new EmbeddedChannel(new ProxyInitializer(services, config));
        channel.writeInbound(Unpooled.copiedBuffer("GET / HT", StandardCharsets.US_ASCII));
        assertThat(names(channel.pipeline())).isEqualTo(PipelineLayout.PROXY_HTTP1.names(false));
        channel.finishAndReleaseAll();
    }

    @Test
    void theHttp2PrefaceGetsTheHttp2LayoutButOnlyWhenComplete() {
        EmbeddedChannel channel = new EmbeddedChannel(new ProxyInitializer(services, config));
        channel.writeInbound(Unpooled.copiedBuffer("PRI * HTTP/2.0\r\n", StandardCharsets.US_ASCII));
        assertThat(names(channel.pipeline())).isEqualTo(PipelineLayout.PROXY.names(false));
        channel.writeInbound(Unpooled.copiedBuffer("\r\nSM\r\n\r\n", StandardCharsets.US_ASCII));
        assertThat(names(channel.pipeline())).isEqualTo(PipelineLayout.PROXY_HTTP2.names(false));
        channel.finishAndReleaseAll();
    }

    @Test
    void theAdminPipelineMatchesItsLayout() {
        EmbeddedChannel channel = new EmbeddedChannel(AdminServer.initializer(
                () -> new AdminHandler(metrics, null, new RequestRouter(config.headers(), config.defaults(), config.tenants(),
                        config.outbound()), () -> null, () -> null)));
        assertThat(names(channel.pipeline())).isEqualTo(PipelineLayout.ADMIN.names(false));
        channel.finishAndReleaseAll();
    }

    @Test
    void anUpstreamConnectionsPipelineMatchesItsLayout() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (ServerSocket upstream = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Channel> connected = new CompletableFuture<>();
            UpstreamTarget target = UpstreamTarget.parse("http://127.0.0.1:" + upstream.getLocalPort() + "/");
            group.next().execute(() -> pools.pool(group.next(), target, UpstreamProtocol.HTTP1).connect(new Connected(connected)));
            Channel channel = connected.get(10, TimeUnit.SECONDS);
            assertThat(names(channel.pipeline())).isEqualTo(PipelineLayout.UPSTREAM.names(false));
            channel.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void anHttp2UpstreamConnectionsAndStreamsPipelinesMatchTheirLayouts() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (H2Upstream upstream = new H2Upstream()) { // a stream opens once the upstream's SETTINGS are in
            UpstreamTarget target = UpstreamTarget.parse(upstream.url());
            CompletableFuture<Channel> stream = new CompletableFuture<>();
            group.next().execute(() -> pools.pool(group.next(), target, UpstreamProtocol.H2).connect(new Connected(stream)));
            Channel h2 = stream.get(10, TimeUnit.SECONDS);
            assertThat(names(h2.pipeline())).isEqualTo(PipelineLayout.UPSTREAM_STREAM.names(false));
            assertThat(names(h2.parent().pipeline())).isEqualTo(PipelineLayout.UPSTREAM_HTTP2.names(false));
            h2.parent().close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private record Connected(CompletableFuture<Channel> future) implements ResponseListener {
        @Override
        public void upstreamConnected(Channel upstream, boolean reused) {
            future.complete(upstream);
        }

        @Override
        public void upstreamConnectFailed(Throwable cause) {
            future.completeExceptionally(cause);
        }

        @Override
        public void upstreamResponse(HttpObject message) {
        }

        @Override
        public void upstreamReadComplete() {
        }

        @Override
        public void upstreamClosed(Throwable cause) {
        }

        @Override
        public void upstreamIdle() {
        }
    }
}
