package dev.trafficmanager.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * An upstream that speaks only HTTP/2 with prior knowledge (h2c), on Netty's codecs; it refuses the
 * first stream for a path containing {@code refuse-once} (RST_STREAM REFUSED_STREAM), and answers
 * {@code h2 <method> <path> bytes=<request body length>}, with a trailer {@code x-body-bytes} when the
 * path contains {@code trailers}. It keeps the requests' headers for tests to look at.
 */
public final class H2Upstream implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel server;
    final List<String> requestHeads = new CopyOnWriteArrayList<>();
    final List<Channel> connections = new CopyOnWriteArrayList<>();
    /** PING acknowledgements received, on any connection. */
    private final java.util.concurrent.atomic.AtomicInteger pingAcks = new java.util.concurrent.atomic.AtomicInteger();
    /** The most streams seen open at once on one connection. */
    final AtomicInteger maxActiveStreams = new AtomicInteger();
    private final String scheme;
    private final java.util.Set<String> refusedOnce = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public H2Upstream() throws InterruptedException {
        this(100, null);
    }

    H2Upstream(int maxConcurrentStreams) throws InterruptedException {
        this(maxConcurrentStreams, null);
    }

    /**
     * With {@code maxConcurrentStreams} in its SETTINGS, over TLS with {@code tls} (ALPN: h2 only) unless
     * null; a path containing {@code slow} is answered after 300 ms.
     */
    H2Upstream(int maxConcurrentStreams, SSLContext tls) throws InterruptedException {
        SslContext alpn = tls == null ? null : new JdkSslContext(tls, false, null, IdentityCipherSuiteFilter.INSTANCE,
                new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                        ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                        ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2),
                ClientAuth.NONE, null, false);
        this.scheme = tls == null ? "http" : "https";
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        if (alpn != null) {
                            ch.pipeline().addLast(alpn.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer().initialSettings(
                                        Http2Settings.defaultSettings().maxConcurrentStreams(maxConcurrentStreams)).build(),
                                new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
                                    @Override
                                    protected void initChannel(Channel stream) {
                                        stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(true),
                                                new HttpObjectAggregator(16 << 20), new Answer());
                                    }
                                }), new io.netty.channel.ChannelInboundHandlerAdapter() {
                                    @Override
                                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                        if (msg instanceof io.netty.handler.codec.http2.Http2PingFrame ping && ping.ack()) {
                                            pingAcks.incrementAndGet();
                                        }
                                        ctx.fireChannelRead(msg);
                                    }
                                });
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
    }

    public String url() {
        return scheme + "://127.0.0.1:" + ((InetSocketAddress) server.localAddress()).getPort() + "/";
    }

    private final class Answer extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            if (request.uri().contains("refuse-once") && refusedOnce.add(request.uri())) {
                requestHeads.add("REFUSED " + request.uri());
                ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.REFUSED_STREAM)); // "not processed: try again"
                return;
            }
            requestHeads.add(request.method() + " " + request.uri() + "\n" + request.headers());
            Http2FrameCodec codec = ctx.channel().parent().pipeline().get(Http2FrameCodec.class);
            maxActiveStreams.accumulateAndGet(codec.connection().numActiveStreams(), Math::max);
            int bytes = request.content().readableBytes();
            byte[] body = ("h2 " + request.method() + " " + request.uri() + " bytes=" + bytes)
                    .getBytes(StandardCharsets.UTF_8);
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.wrappedBuffer(body));
            response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
            if (request.uri().contains("trailers")) {
                response.headers().remove(HttpHeaderNames.CONTENT_LENGTH);
                response.trailingHeaders().setInt("x-body-bytes", bytes);
            }
            if (request.uri().contains("slow")) {
                ctx.executor().schedule(() -> ctx.writeAndFlush(response), 300, TimeUnit.MILLISECONDS);
            } else {
                ctx.writeAndFlush(response);
            }
        }
    }

    /** GOAWAY (NO_ERROR) on every connection: the streams open finish, no new one is taken. */
    /**
     * Sends GOAWAY on every open connection, then a PING, and returns once each PING was acknowledged:
     * the peer handles frames in order, so by then it has handled the GOAWAY (a request sent after
     * this call cannot race it onto the old connection).
     */
    void goAwayEverywhere() {
        List<Channel> open = connections.stream().filter(Channel::isActive).toList();
        int acked = pingAcks.get();
        for (Channel connection : open) {
            connection.write(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
            connection.writeAndFlush(new DefaultHttp2PingFrame(42));
        }
        dev.trafficmanager.testing.Poll.until(java.time.Duration.ofSeconds(5), "the PING after the GOAWAY acknowledged",
                () -> pingAcks.get() >= acked + open.size());
    }

    @Override
    public void close() throws InterruptedException {
        server.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
}
