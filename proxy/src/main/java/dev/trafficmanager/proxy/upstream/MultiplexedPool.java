package dev.trafficmanager.proxy.upstream;

import dev.trafficmanager.proxy.Deadline;
import dev.trafficmanager.proxy.resilience.CircuitBreaker;
import io.micrometer.core.instrument.Counter;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.nio.channels.ClosedChannelException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * HTTP/2 connections to one upstream from one event loop, each carrying up to the upstream's
 * {@code SETTINGS_MAX_CONCURRENT_STREAMS} requests at once (100 until its SETTINGS arrive, the
 * smallest limit RFC 9113 recommends). A request gets a stream on the first connection with room,
 * else on a new connection, up to the pool's connection limit. After a GOAWAY a connection takes
 * no new streams; those in flight finish, and it closes once the last one has. A connection without
 * streams for the pool idle timeout closes. Only its event loop touches it: no locks.
 *
 * <p>Releasing a stream closes it: a stream that has not ended is reset (RST_STREAM CANCEL), which
 * is how a client's cancellation reaches the upstream.
 */
public final class MultiplexedPool implements ConnectionPool {
    static final int STREAMS_BEFORE_SETTINGS = 100;
    private static final AttributeKey<Connection> CONNECTION = AttributeKey.valueOf("tm.h2-connection");

    private final UpstreamTarget target;
    private final Bootstrap bootstrap;
    private final int maxConnections;
    private final long poolIdleNanos;
    private final LongAdder openGauge;
    private final CircuitBreaker breaker;
    private final Counter rejections;
    private final ChannelHandler streamInitializer;
    private final Runnable notHttp2; // tells the pools this upstream speaks HTTP/1.1 only
    private final List<Connection> connections = new ArrayList<>();
    private long lastUsedNanos = System.nanoTime();

    /**
     * One HTTP/2 connection: its streams in use, and the exchanges waiting for the upstream's first
     * SETTINGS (its stream limit), when streams open, as many as it allows; the rest look elsewhere.
     */
    private final class Connection {
        final Channel channel;
        final ArrayDeque<ResponseListener> waiting = new ArrayDeque<>();
        final Deadline idle;
        int streams; // open, opening or waiting
        boolean settingsSeen; // streams may open
        boolean notHttp2; // its first bytes were no HTTP/2 frames, or TLS chose another protocol
        boolean goingAway;

        Connection(Channel channel) {
            this.channel = channel;
            this.idle = new Deadline(channel.eventLoop());
        }

        boolean hasRoom() {
            return !goingAway && channel.isOpen() && streams < (settingsSeen ? limit() : STREAMS_BEFORE_SETTINGS);
        }

        /** The upstream's SETTINGS_MAX_CONCURRENT_STREAMS, as the codec applied it. */
        int limit() {
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
            List<ResponseListener> elsewhere = new ArrayList<>();
            ResponseListener next;
            while ((next = waiting.poll()) != null) {
                if (open < limit()) {
                    open++;
                    openStream(this, next, false);
                } else {
                    streams--;
                    elsewhere.add(next);
                }
            }
            elsewhere.forEach(MultiplexedPool.this::acquire);
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
    }

    MultiplexedPool(UpstreamTarget target, Bootstrap bootstrap, int maxConnections, long poolIdleNanos,
                    LongAdder openGauge, CircuitBreaker breaker, Counter rejections, ChannelHandler streamInitializer,
                    Runnable notHttp2) {
        this.target = target;
        this.bootstrap = bootstrap;
        this.maxConnections = maxConnections;
        this.poolIdleNanos = poolIdleNanos;
        this.openGauge = openGauge;
        this.breaker = breaker;
        this.rejections = rejections;
        this.streamInitializer = streamInitializer;
        this.notHttp2 = notHttp2;
    }

    @Override
    public boolean admit() {
        if (breaker.tryAcquire()) {
            return true;
        }
        rejections.increment();
        return false;
    }

    @Override
    public CircuitBreaker breaker() {
        return breaker;
    }

    @Override
    public void acquire(ResponseListener exchange) {
        lastUsedNanos = System.nanoTime();
        for (Connection connection : connections) {
            if (connection.hasRoom()) {
                use(connection, exchange, true);
                return;
            }
        }
        connect(exchange);
    }

    @Override
    public void connect(ResponseListener exchange) {
        lastUsedNanos = System.nanoTime();
        if (connections.size() >= maxConnections) {
            exchange.upstreamConnectFailed(new UpstreamPool.Exhausted("connection limit reached: " + maxConnections
                    + " HTTP/2 connections to " + target.poolKey() + " from this event loop, each with its maximum of "
                    + "concurrent streams (TM_UPSTREAM_MAX_CONNECTIONS)"));
            return;
        }
        openGauge.increment();
        ChannelFuture connecting = bootstrap.connect(target.host(), target.port());
        Connection connection = new Connection(connecting.channel());
        connecting.channel().attr(CONNECTION).set(connection);
        connections.add(connection);
        connection.streams++;
        connection.waiting.add(exchange);
        connecting.channel().closeFuture().addListener(f -> {
            if (connection.notHttp2) {
                notHttp2.run();
            }
            connections.remove(connection);
            connection.idle.close();
            openGauge.decrement();
            connection.failWaiting(connection.notHttp2 ? notHttp2Cause()
                    : new ClosedChannelException()); // closed before the upstream's SETTINGS
        });
        connecting.addListener(f -> {
            if (!f.isSuccess()) {
                connection.failWaiting(f.cause());
            } // else the streams open when the upstream's SETTINGS arrive
        });
    }

    private void use(Connection connection, ResponseListener exchange, boolean reused) {
        connection.idle.disarm();
        connection.streams++;
        if (connection.settingsSeen) {
            openStream(connection, exchange, reused);
        } else {
            connection.waiting.add(exchange);
        }
    }

    private void openStream(Connection connection, ResponseListener exchange, boolean reused) {
        new Http2StreamChannelBootstrap(connection.channel).option(ChannelOption.AUTO_READ, false)
                .handler(streamInitializer).open().addListener((Future<Http2StreamChannel> f) -> {
                    if (f.isSuccess()) {
                        UpstreamHandler.attach(f.getNow(), exchange);
                        exchange.upstreamConnected(f.getNow(), reused);
                    } else {
                        connection.streamEnded();
                        exchange.upstreamConnectFailed(f.cause());
                    }
                });
    }

    /** A stream is never reused: closing it ends it, with RST_STREAM if it had not ended yet. */
    @Override
    public void release(Channel stream, boolean reusable) {
        UpstreamHandler.detach(stream);
        stream.close();
    }

    @Override
    public void detach(Channel stream) {
        release(stream, false); // HTTP/2 has no 101: nothing to hand over
    }

    @Override
    public boolean idle() {
        return connections.isEmpty();
    }

    @Override
    public long lastUsedNanos() {
        return lastUsedNanos;
    }

    /** A stream of a connection whose upstream does not speak HTTP/2 ends with {@link UpstreamPool.NotHttp2}. */
    @Override
    public Throwable closeCause(Channel stream) {
        Connection connection = stream.parent() == null ? null : stream.parent().attr(CONNECTION).get();
        return connection != null && connection.notHttp2 ? notHttp2Cause() : null;
    }

    private UpstreamPool.NotHttp2 notHttp2Cause() {
        return new UpstreamPool.NotHttp2("upstream " + target.poolKey() + (target.https()
                ? " did not choose h2 by ALPN" : " answered HTTP/2's preface with something else: it does not speak h2c"));
    }

    /** A stream's {@link UpstreamHandler} saw it close. */
    @Override
    public void closed(Channel stream) {
        Connection connection = stream.parent() == null ? null : stream.parent().attr(CONNECTION).get();
        if (connection != null) {
            connection.streamEnded();
        }
    }

    /**
     * The connection's last handler: learns the upstream's SETTINGS (its stream limit) and GOAWAY
     * (no new streams here; the connection closes after its last stream), and closes on errors.
     */
    static final class ConnectionHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            // Room in the connection's window for every stream's: one slow stream never stalls the others.
            ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(UpstreamProtocol.CONNECTION_WINDOW - UpstreamProtocol.STREAM_WINDOW));
            ctx.fireChannelActive();
        }

        /** Over TLS, a server that did not choose h2 by ALPN does not speak HTTP/2 here: its streams fall back. */
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            Connection connection = ctx.channel().attr(CONNECTION).get();
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
            Connection connection = ctx.channel().attr(CONNECTION).get();
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
            Connection connection = ctx.channel().attr(CONNECTION).get();
            if (connection != null && cause instanceof Http2Exception && !connection.settingsSeen) {
                connection.notHttp2 = true;
            }
            if (!(cause instanceof Http2Exception)) {
                ctx.close();
            }
        }
    }
}
