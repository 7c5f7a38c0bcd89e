package dev.trafficmanager.benchmarks;

import dev.trafficmanager.proxy.balancing.Balancer;
import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.Sidecar;
import dev.trafficmanager.proxy.Transport;
import dev.trafficmanager.proxy.lookup.L1Store;
import dev.trafficmanager.proxy.lookup.Resolver;
import dev.trafficmanager.proxy.lookup.RouteCache;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.lookup.RouteSource;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.routing.Drain;
import dev.trafficmanager.proxy.routing.ProxyServices;
import dev.trafficmanager.proxy.routing.RequestRouter;
import dev.trafficmanager.proxy.routing.TenantBulkhead;
import dev.trafficmanager.proxy.upstream.UpstreamPools;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.resolver.DefaultAddressResolverGroup;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The whole request path in one JVM over loopback: a keep-alive client (a blocking socket, one
 * request at a time) sends a GET with route headers and reads the response, either straight to an
 * in-process upstream ({@code direct}) or through the sidecar's real pipeline (codec, route headers,
 * near cache and L1, upstream pool, forwarding) on one event loop ({@code sidecar}). The difference
 * is what the sidecar adds per request; with {@code -prof gc}, {@code gc.alloc.rate.norm} is the
 * whole JVM's allocation per request (client and upstream included, so subtract {@code direct}).
 */
@State(Scope.Thread)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ProxyPathBenchmark extends BenchmarkBase {
    private static final byte[] BODY = "hello from the upstream\n".getBytes(StandardCharsets.US_ASCII);

    @Param({"direct", "sidecar"})
    public String target;

    private EventLoopGroup upstreamLoop;
    private EventLoopGroup proxyLoop;
    private Channel upstreamServer;
    private Channel proxyServer;
    private Path dir;
    private L1Store l1;
    private Resolver resolver;
    private ProxyMetrics metrics;
    private Socket socket;
    private OutputStream out;
    private InputStream in;
    private byte[] request;
    private final byte[] buffer = new byte[8192];

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Transport transport = Transport.select(Transport.EPOLL);
        upstreamLoop = transport.group(1, "upstream");
        upstreamServer = new ServerBootstrap().group(upstreamLoop).channel(transport.serverChannel())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new SimpleChannelInboundHandler<HttpObject>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                                if (msg instanceof LastHttpContent) {
                                    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                            HttpResponseStatus.OK, Unpooled.wrappedBuffer(BODY));
                                    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain")
                                            .setInt(HttpHeaderNames.CONTENT_LENGTH, BODY.length);
                                    ctx.writeAndFlush(response);
                                }
                            }
                        });
                    }
                }).bind("127.0.0.1", 0).sync().channel();
        int upstreamPort = ((InetSocketAddress) upstreamServer.localAddress()).getPort();
        int port = upstreamPort;
        if (target.equals("sidecar")) {
            dir = Files.createTempDirectory("tm-bench");
            ProxyConfig config = ProxyConfig.fromEnv(Map.of("TM_TENANT", "team", "TM_ENV", "prod", "TM_PROXY_PORT", "0",
                    "TM_L1_FILE", dir.resolve("routes.l1").toString()));
            l1 = L1Store.open(config.l1File(), 1000);
            l1.apply(RouteEntry.found("team/hello/prod/v1", "http://127.0.0.1:" + upstreamPort + "/", true, 1,
                    System.currentTimeMillis()));
            metrics = new ProxyMetrics();
            resolver = new Resolver(l1, 100, RouteCache.NONE, new RouteSource() {
                @Override
                public CompletionStage<RouteEntry> fetch(String key) {
                    return CompletableFuture.failedFuture(new IllegalStateException("the benchmark's route is in L1"));
                }

                @Override
                public void close() {
                }
            }, config.lookup(), metrics, System::currentTimeMillis);
            ProxyServices services = new ProxyServices(resolver, new RequestRouter(config.headers(), config.defaults(), config.tenants(), config.outbound()),
                    new UpstreamPools(config.upstream(), transport.socketChannel(), null, null, DefaultAddressResolverGroup.INSTANCE, metrics),
                    metrics, new Drain(), config.upstream(), config.clientLimits(), TenantBulkhead.OFF,
                    new Balancer(config.upstream().balancing(), metrics, System::nanoTime));
            proxyLoop = transport.group(1, "proxy");
            proxyServer = Sidecar.bindProxy(transport, proxyLoop, services, config);
            port = ((InetSocketAddress) proxyServer.localAddress()).getPort();
        }
        request = ("GET /greet?name=ada HTTP/1.1\r\nHost: hello.team.svc\r\nUser-Agent: bench\r\nAccept: */*\r\n"
                + "x-tm-service: hello\r\nx-tm-version: v1\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        out = socket.getOutputStream();
        in = socket.getInputStream();
        if (roundTrip() != 200) {
            throw new IllegalStateException(target + " did not answer 200");
        }
    }

    @Benchmark
    public int request() throws IOException {
        return roundTrip();
    }

    /** Sends the request and reads one response (Content-Length framed); returns its status. */
    private int roundTrip() throws IOException {
        out.write(request);
        int filled = 0;
        int headEnd = -1;
        while (headEnd < 0) {
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                throw new IOException("closed");
            }
            filled += n;
            headEnd = indexOfHeadEnd(buffer, filled);
        }
        int length = contentLength(buffer, headEnd);
        while (filled < headEnd + length) {
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                throw new IOException("closed");
            }
            filled += n;
        }
        return (buffer[9] - '0') * 100 + (buffer[10] - '0') * 10 + (buffer[11] - '0');
    }

    private static int indexOfHeadEnd(byte[] b, int filled) {
        for (int i = 3; i < filled; i++) {
            if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
                return i + 1;
            }
        }
        return -1;
    }

    private static int contentLength(byte[] b, int headEnd) {
        String head = new String(b, 0, headEnd, StandardCharsets.US_ASCII).toLowerCase();
        int at = head.indexOf("content-length:");
        if (at < 0) {
            throw new IllegalStateException("no content-length in " + head);
        }
        int end = head.indexOf('\r', at);
        return Integer.parseInt(head.substring(at + "content-length:".length(), end).trim());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        socket.close();
        if (proxyServer != null) {
            proxyServer.close().sync();
            proxyLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
            resolver.close();
            l1.close();
            metrics.close();
        }
        upstreamServer.close().sync();
        upstreamLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
}
