package dev.trafficmanager.proxy.upstream;

import dev.trafficmanager.proxy.resilience.CircuitBreaker;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * HTTP/2 connections ({@link Http2Connection}) to one upstream from one event loop, each carrying
 * up to the upstream's {@code SETTINGS_MAX_CONCURRENT_STREAMS} requests at once. A request gets a
 * stream on the first connection with room, else on a new connection, up to the pool's connection
 * limit; a new connection opens its streams once the upstream's SETTINGS are in. After a GOAWAY a connection takes
 * no new streams; those in flight finish, and it closes once the last one has. A connection without
 * streams for the pool idle timeout closes. Only its event loop touches it: no locks.
 *
 * <p>Releasing a stream closes it: a stream that has not ended is reset (RST_STREAM CANCEL), which
 * is how a client's cancellation reaches the upstream.
 */
public final class MultiplexedPool implements ConnectionPool {

    private final UpstreamTarget target;
    private final Bootstrap bootstrap;
    private final int maxConnections;
    private final long poolIdleNanos;
    private final LongAdder openGauge;
    private final UpstreamBreaker breaker;
    private final ChannelHandler streamInitializer;
    private final Runnable notHttp2; // tells the pools this upstream speaks HTTP/1.1 only
    private final List<Http2Connection> connections = new ArrayList<>();
    private long lastUsedNanos = System.nanoTime();

    MultiplexedPool(UpstreamTarget target, Bootstrap bootstrap, int maxConnections, long poolIdleNanos,
                    LongAdder openGauge, UpstreamBreaker breaker, ChannelHandler streamInitializer,
                    Runnable notHttp2) {
        this.target = target;
        this.bootstrap = bootstrap;
        this.maxConnections = maxConnections;
        this.poolIdleNanos = poolIdleNanos;
        this.openGauge = openGauge;
        this.breaker = breaker;
        this.streamInitializer = streamInitializer;
        this.notHttp2 = notHttp2;
    }

    @Override
    public boolean admit() {
        return breaker.admit();
    }

    @Override
    public CircuitBreaker breaker() {
        return breaker.breaker();
    }

    @Override
    public void acquire(ResponseListener exchange) {
        lastUsedNanos = System.nanoTime();
        for (Http2Connection connection : connections) {
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
        ChannelFuture connecting = bootstrap.connect(target.host(), target.port());
        if (connecting.isDone() && !connecting.isSuccess()) { // no channel at all (file descriptors exhausted...)
            exchange.upstreamConnectFailed(connecting.cause());
            return;
        }
        openGauge.increment();
        Http2Connection connection = new Http2Connection(connecting.channel(), this::openStream, this::acquire, poolIdleNanos);
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
                    : new IOException("the connection closed before the upstream's HTTP/2 SETTINGS"));
        });
        connecting.addListener(f -> {
            if (!f.isSuccess()) {
                connection.failWaiting(f.cause());
            } // else the streams open when the upstream's SETTINGS arrive
        });
    }

    private void use(Http2Connection connection, ResponseListener exchange, boolean reused) {
        connection.idle.disarm();
        connection.streams++;
        if (connection.settingsSeen) {
            openStream(connection, exchange, reused);
        } else {
            connection.waiting.add(exchange);
        }
    }

    private void openStream(Http2Connection connection, ResponseListener exchange, boolean reused) {
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
        Http2Connection connection = Http2Connection.of(stream.parent());
        return connection != null && connection.notHttp2 ? notHttp2Cause() : null;
    }

    private UpstreamPool.NotHttp2 notHttp2Cause() {
        return new UpstreamPool.NotHttp2("upstream " + target.poolKey() + (target.https()
                ? " did not choose h2 by ALPN" : " answered HTTP/2's preface with something else: it does not speak h2c"));
    }

    /** A stream's {@link UpstreamHandler} saw it close. */
    @Override
    public void closed(Channel stream) {
        Http2Connection connection = Http2Connection.of(stream.parent());
        if (connection != null) {
            connection.streamEnded();
        }
    }
}
