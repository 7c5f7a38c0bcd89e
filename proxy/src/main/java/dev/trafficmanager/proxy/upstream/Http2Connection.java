package dev.trafficmanager.proxy.upstream;

import dev.trafficmanager.proxy.Deadline;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One HTTP/2 connection of a {@link MultiplexedPool}: its streams in use, and the exchanges waiting
 * for the upstream's first SETTINGS (its stream limit); then streams open for them, as many as the
 * upstream allows, and the rest look elsewhere. It learns from its channel's last handler,
 * {@link Handler}, the upstream's SETTINGS, its GOAWAY (no new stream; it closes after its last)
 * and whether it speaks HTTP/2 at all. Closes once without streams for the pool idle timeout.
 * Confined to its event loop.
 */
final class Http2Connection {
    /** Until the upstream's SETTINGS say otherwise, up to this many exchanges wait for a new connection. */
    static final int STREAMS_BEFORE_SETTINGS = 100;
    /** A connection whose upstream sends no SETTINGS this long after the connect closes: its waiters then fail. */
    static final long SETTINGS_TIMEOUT_SECONDS = 10;
    private static final AttributeKey<Http2Connection> KEY = AttributeKey.valueOf("tm.h2-connection");

    /** How the pool opens a stream on this connection for an exchange. */
    interface StreamOpener {
        void open(Http2Connection connection, ResponseListener exchange, boolean reused);
    }

    final Channel channel;
    final ArrayDeque<ResponseListener> waiting = new ArrayDeque<>();
    final Deadline idle;
    int streams; // open, opening or waiting
    boolean settingsSeen; // streams may open
    boolean notHttp2; // its first bytes were no HTTP/2 frames, or TLS chose another protocol
    boolean goingAway;
    private final StreamOpener opener;
    private final Consumer<ResponseListener> elsewhere;
    private final long poolIdleNanos;

    /** {@code elsewhere}: where an exchange goes that the upstream's limit leaves no stream here. */
    Http2Connection(Channel channel, StreamOpener opener, Consumer<ResponseListener> elsewhere, long poolIdleNanos) {
        this.channel = channel;
        this.idle = new Deadline(channel.eventLoop());
        this.opener = opener;
        this.elsewhere = elsewhere;
        this.poolIdleNanos = poolIdleNanos;
        channel.attr(KEY).set(this);
        channel.eventLoop().schedule(() -> {
            if (!settingsSeen) {
                channel.close();
            }
        }, SETTINGS_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** The connection of {@code channel} (a stream's parent), or null. */
    static Http2Connection of(Channel channel) {
        return channel == null ? null : channel.attr(KEY).get();
    }

    boolean hasRoom() {
        return !goingAway && channel.isOpen() && streams < (settingsSeen ? limit() : STREAMS_BEFORE_SETTINGS);
    }

    /** The upstream's SETTINGS_MAX_CONCURRENT_STREAMS, as the codec applied it. */
    private int limit() {
        Http2FrameCodec codec = channel.pipeline().get(Http2FrameCodec.class);
        return codec == null ? 0 : codec.connection().local().maxActiveStreams();
    }

    /** The upstream's first SETTINGS: the exchanges waiting get streams up to its limit; the others look elsewhere. */
    void settingsArrived() {
        if (settingsSeen) {
            return;
        }
        settingsSeen = true;
        int open = streams - waiting.size();
        List<ResponseListener> others = new ArrayList<>();
        ResponseListener next;
        while ((next = waiting.poll()) != null) {
            if (open < limit()) {
                open++;
                opener.open(this, next, false);
            } else {
                streams--;
                others.add(next);
            }
        }
        others.forEach(elsewhere);
    }

    /** The connection ended before its SETTINGS: the exchanges waiting hear {@code cause}. */
    void failWaiting(Throwable cause) {
        ResponseListener next;
        while ((next = waiting.poll()) != null) {
            streams--;
            next.upstreamConnectFailed(cause);
        }
    }

    void streamEnded() {
        streams--;
        if (streams == 0) {
            if (goingAway) {
                channel.close();
            } else {
                idle.arm(poolIdleNanos, () -> {
                    if (streams == 0) {
                        channel.close();
                    }
                });
            }
        }
    }

    /**
     * The connection's last handler: widens its window, and tells its {@link Http2Connection} the
     * upstream's SETTINGS and GOAWAY, and that it does not speak HTTP/2 (by ALPN, or by its answer).
     */
    static final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            // Room in the connection's window for every stream's: one slow stream never stalls the others.
            ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(UpstreamProtocol.CONNECTION_WINDOW - UpstreamProtocol.STREAM_WINDOW));
            ctx.fireChannelActive();
        }

        /** Over TLS, a server that did not choose h2 by ALPN does not speak HTTP/2 here: its streams fall back. */
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            Http2Connection connection = of(ctx.channel());
            if (connection != null && event instanceof SslHandshakeCompletionEvent handshake && handshake.isSuccess()
                    && !ApplicationProtocolNames.HTTP_2.equals(ctx.pipeline().get(SslHandler.class).applicationProtocol())) {
                connection.notHttp2 = true;
                ctx.close();
                return;
            }
            ctx.fireUserEventTriggered(event);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Http2Connection connection = of(ctx.channel());
            if (connection != null && msg instanceof Http2SettingsFrame) {
                connection.settingsArrived();
            } else if (connection != null && msg instanceof Http2GoAwayFrame) {
                connection.goingAway = true;
                if (connection.streams == 0) {
                    ctx.close();
                }
            }
            ReferenceCountUtil.release(msg);
        }

        /**
         * A protocol error is the codec's to end (GOAWAY, then close); anything else closes at once.
         * One before the upstream's SETTINGS means it does not speak HTTP/2 (an HTTP/1.1 server's 400).
         */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            Http2Connection connection = of(ctx.channel());
            if (connection != null && cause instanceof Http2Exception && !connection.settingsSeen) {
                connection.notHttp2 = true;
            }
            if (!(cause instanceof Http2Exception)) {
                ctx.close();
            }
        }
    }
}
