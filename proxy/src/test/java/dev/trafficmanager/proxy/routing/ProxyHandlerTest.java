package dev.trafficmanager.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.trafficmanager.proxy.balancing.Balancer;
import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.lookup.L1Store;
import dev.trafficmanager.proxy.lookup.Resolver;
import dev.trafficmanager.proxy.lookup.RouteCache;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.lookup.RouteSource;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.upstream.UpstreamPools;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The proxy handler's own answers, on an EmbeddedChannel with a fake source of truth. */
class ProxyHandlerTest {
    @TempDir
    Path dir;
    private L1Store l1;
    private Resolver resolver;
    private ProxyServices services;
    private final ProxyMetrics metrics = new ProxyMetrics();

    @BeforeEach
    void setUp() {
        ProxyConfig config = ProxyConfig.fromEnv(Map.of("TM_TENANT", "team", "TM_ENV", "prod"));
        l1 = L1Store.open(dir.resolve("l1"), 1000);
        RouteSource unknownEverywhere = new RouteSource() {
            @Override
            public CompletionStage<RouteEntry> fetch(String key) {
                return CompletableFuture.completedFuture(RouteEntry.absent(key, System.currentTimeMillis()));
            }

            @Override
            public void close() {
            }
        };
        resolver = new Resolver(l1, 100, RouteCache.NONE, unknownEverywhere, config.lookup(), metrics, System::currentTimeMillis);
        services = new ProxyServices(resolver, new RequestRouter(config.headers(), config.defaults(), config.tenants(), config.outbound()),
                new UpstreamPools(config.upstream(), NioSocketChannel.class, null, null, null, metrics), metrics, new Drain(),
                config.upstream(), config.clientLimits(), TenantBulkhead.OFF,
                new Balancer(config.upstream().balancing(), metrics, System::nanoTime));
    }

    @AfterEach
    void tearDown() {
        resolver.close();
        l1.close();
    }

    private EmbeddedChannel channel() {
        EmbeddedChannel channel = new EmbeddedChannel(new ProxyHandler(services));
        channel.config().setAutoRead(false);
        return channel;
    }

    private static String body(FullHttpResponse response) {
        return response.content().toString(StandardCharsets.UTF_8);
    }

    @Test
    void aMissingServiceHeaderWithoutAnAuthorityIs400AndTheConnectionStaysOpen() {
        EmbeddedChannel channel = channel();
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/");
        request.headers().set("x-tm-version", "v1").set("connection", "keep-alive");
        channel.writeInbound(request, LastHttpContent.EMPTY_LAST_CONTENT);
        FullHttpResponse response = channel.readOutbound();
        try {
            assertThat(response.status().code()).isEqualTo(400);
            assertThat(body(response)).contains("\"error\":\"missing_route_header\"");
            assertThat(response.headers().get("connection")).isEqualTo("keep-alive");
        } finally {
            response.release();
        }
        assertThat(channel.isOpen()).isTrue();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void anUnknownRouteIs404AfterTheLookupAndABodyIsNotReadFurther() {
        EmbeddedChannel channel = channel();
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/");
        request.headers().set("host", "app").set("x-tm-service", "nope").set("x-tm-version", "v1").set("content-length", "4");
        channel.writeInbound(request);
        channel.runPendingTasks();
        FullHttpResponse response = channel.readOutbound();
        try {
            assertThat(response.status().code()).isEqualTo(404);
            assertThat(body(response)).contains("\"error\":\"route_not_found\"").contains("team/nope/prod/v1");
            assertThat(response.headers().get("connection")).isEqualTo("close");
        } finally {
            response.release();
        }
        assertThat(channel.isOpen()).isFalse(); // the unread body is not drained: the connection closes
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void aRequestThatFailedToDecodeIs400AndCloses() {
        EmbeddedChannel channel = channel();
        DefaultFullHttpRequest bad = new DefaultFullHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/bad-request",
                Unpooled.buffer(0));
        bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("invalid header")));
        channel.writeInbound(bad);
        FullHttpResponse response = channel.readOutbound();
        try {
            assertThat(response.status().code()).isEqualTo(400);
            assertThat(body(response)).contains("\"error\":\"bad_request\"");
        } finally {
            response.release();
        }
        assertThat(channel.isOpen()).isFalse();
        assertThat(bad.refCnt()).isZero();
        assertFalse(channel.finishAndReleaseAll());
    }
}
