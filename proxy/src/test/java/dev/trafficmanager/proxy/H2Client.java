package dev.trafficmanager.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrame;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Netty's own HTTP/2 client (prior knowledge) over one connection: requests as frames, answers as frames. */
final class H2Client implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel connection;

    /** What came back on a stream: the head, the body, and the trailers (null: none). */
    record Answer(Http2Headers headers, String body, Http2Headers trailers, List<String> informational) {
        String status() {
            return headers.status().toString();
        }
    }

    H2Client(int port) throws InterruptedException {
        connection = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                    }
                })
                .connect("127.0.0.1", port).sync().channel();
    }

    /** Sends a request ({@code body} null: none; {@code path} null: a CONNECT) and returns its answer when the stream ends. */
    CompletableFuture<Answer> send(String method, String path, Map<String, String> headers, byte[] body) {
        CompletableFuture<Answer> answer = new CompletableFuture<>();
        new Http2StreamChannelBootstrap(connection).handler(new Collector(answer)).open().addListener(f -> {
            if (!f.isSuccess()) {
                answer.completeExceptionally(f.cause());
                return;
            }
            Http2StreamChannel stream = (Http2StreamChannel) f.getNow();
            Http2Headers head = path == null // CONNECT (RFC 9113 section 8.5): the authority alone
                    ? new DefaultHttp2Headers().method(method).authority("example.com:443")
                    : new DefaultHttp2Headers().method(method).path(path).scheme("http").authority("h2.test");
            headers.forEach(head::add);
            stream.write(new DefaultHttp2HeadersFrame(head, body == null));
            if (body != null) {
                stream.write(new DefaultHttp2DataFrame(Unpooled.wrappedBuffer(body), true));
            }
            stream.flush();
        });
        return answer;
    }

    Answer get(String path, Map<String, String> headers) throws Exception {
        return send("GET", path, headers, null).get(20, TimeUnit.SECONDS);
    }

    Channel connection() {
        return connection;
    }

    private static final class Collector extends SimpleChannelInboundHandler<Http2StreamFrame> {
        private final CompletableFuture<Answer> answer;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private Http2Headers headers;
        private final List<String> informational = new ArrayList<>();

        Collector(CompletableFuture<Answer> answer) {
            this.answer = answer;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Http2StreamFrame frame) {
            boolean end = false;
            if (frame instanceof Http2HeadersFrame h) {
                CharSequence status = h.headers().status();
                if (headers == null && status != null && status.charAt(0) == '1') {
                    informational.add(status.toString()); // 100 Continue, 103: the real head follows
                } else if (headers == null) {
                    headers = h.headers();
                    end = h.isEndStream();
                    if (end) {
                        answer.complete(new Answer(headers, body.toString(StandardCharsets.UTF_8), null, informational));
                    }
                } else {
                    answer.complete(new Answer(headers, body.toString(StandardCharsets.UTF_8), h.headers(), informational));
                }
            } else if (frame instanceof Http2DataFrame data) {
                ByteBuf content = data.content();
                byte[] bytes = new byte[content.readableBytes()];
                content.readBytes(bytes);
                body.writeBytes(bytes);
                if (data.isEndStream()) {
                    answer.complete(new Answer(headers, body.toString(StandardCharsets.UTF_8), null, informational));
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            answer.completeExceptionally(new IllegalStateException("stream closed before its end"));
        }
    }

    @Override
    public void close() throws InterruptedException {
        connection.close().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
}
