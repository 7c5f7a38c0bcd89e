package dev.trafficmanager.proxy.upstream;

import dev.trafficmanager.proxy.resilience.CircuitBreaker;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.LongAdder;

/**
 * Keep-alive connections to one upstream (scheme, host and port) from one event loop. Only that
 * event loop touches it, so it needs no locks. The most recently used connection is reused first
 * (its server-side idle timer is furthest from firing); connections idle longer than the pool idle
 * timeout close themselves.
 *
 * <p>Each pool has the {@link CircuitBreaker} of its upstream for its event loop: exchanges ask it
 * before they use the pool ({@link #admit()}) and tell it how the upstream answered. A breaker per
 * event loop, like the pool, keeps the request path free of shared state; with N event loops an
 * upstream that fails gets up to N times the failures before every loop stops sending to it.
 */
public final class UpstreamPool implements ConnectionPool {
    private final UpstreamTarget target;
    private final Bootstrap bootstrap;
    private final int maxConnections;
    private final LongAdder openGauge;
    private final LongAdder idleGauge;
    private final ArrayDeque<Channel> idle = new ArrayDeque<>();
    private final UpstreamBreaker breaker;
    private int open;
    private long lastUsedNanos = System.nanoTime();

    /** An upstream answered HTTP/2's preface with something else (HTTP/1.1's 400, most likely): it does not speak h2c. */
    public static final class NotHttp2 extends IllegalStateException {
        NotHttp2(String message) {
            super(message, null);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    /** The upstream refused an HTTP/2 stream (GOAWAY past it, RST_STREAM REFUSED_STREAM): its request was not processed. */
    public static final class Refused extends IllegalStateException {
        Refused(String message) {
            super(message, null);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    /** The pool is full: a local limit, which says nothing about the upstream's health. */
    public static final class Exhausted extends IllegalStateException {
        Exhausted(String message) {
            super(message, null);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    UpstreamPool(UpstreamTarget target, Bootstrap bootstrap, int maxConnections, LongAdder openGauge,
                 LongAdder idleGauge, UpstreamBreaker breaker) {
        this.target = target;
        this.breaker = breaker;
        this.bootstrap = bootstrap;
        this.maxConnections = maxConnections;
        this.openGauge = openGauge;
        this.idleGauge = idleGauge;
    }

    /**
     * Whether the upstream's breaker lets a request through now (counted when it does not). A true
     * answer must be followed by exactly one report to {@link #breaker()}.
     */
    @Override
    public boolean admit() {
        return breaker.admit();
    }

    @Override
    public CircuitBreaker breaker() {
        return breaker.breaker();
    }

    /** A pooled connection if one is alive, else a new one; the listener hears which. */
    @Override
    public void acquire(ResponseListener exchange) {
        lastUsedNanos = System.nanoTime();
        Channel channel;
        while ((channel = idle.pollLast()) != null) {
            idleGauge.decrement();
            if (channel.isActive()) {
                UpstreamHandler.attach(channel, exchange);
                exchange.upstreamConnected(channel, true);
                return;
            }
        }
        connect(exchange);
    }

    /** Always a new connection: for the retry after a reused one failed. */
    @Override
    public void connect(ResponseListener exchange) {
        if (open >= maxConnections) {
            exchange.upstreamConnectFailed(new Exhausted("connection limit reached: " + maxConnections
                    + " connections to " + target.poolKey() + " from this event loop (TM_UPSTREAM_MAX_CONNECTIONS)"));
            return;
        }
        open++;
        openGauge.increment();
        ChannelFuture connecting = bootstrap.connect(target.host(), target.port());
        Channel channel = connecting.channel();
        UpstreamHandler.attach(channel, exchange);
        connecting.addListener(f -> {
            if (f.isSuccess()) {
                exchange.upstreamConnected(channel, false);
            } else {
                // Never active, so its handler sees no channelInactive: count it closed here.
                open--;
                openGauge.decrement();
                UpstreamHandler.detach(channel);
                exchange.upstreamConnectFailed(f.cause());
            }
        });
    }

    /** Back from an exchange: pooled when {@code reusable}, otherwise closed. */
    @Override
    public void release(Channel channel, boolean reusable) {
        UpstreamHandler.detach(channel);
        if (reusable && channel.isActive()) {
            idle.addLast(channel);
            idleGauge.increment();
            UpstreamHandler.pooled(channel);
            channel.read(); // notice a close by the upstream while pooled
        } else {
            channel.close();
        }
    }

    /**
     * Whether no connection is open (none idle, none in use or connecting): then the pool may be
     * dropped, and its breaker with it, once unused a while (a breaker untouched that long has
     * nothing current to say).
     */
    @Override
    public boolean idle() {
        return open == 0;
    }

    @Override
    public long lastUsedNanos() {
        return lastUsedNanos;
    }

    @Override
    public void detach(Channel channel) {
        UpstreamHandler.detach(channel);
        channel.pipeline().remove(UpstreamHandler.class); // its close is no longer the pool's
        closed(channel);
    }

    @Override
    public void closed(Channel channel) {
        open--;
        openGauge.decrement();
        if (idle.remove(channel)) {
            idleGauge.decrement();
        }
    }
}
