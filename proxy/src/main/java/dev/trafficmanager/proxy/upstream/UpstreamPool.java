package dev.trafficmanager.proxy.upstream;

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
 */
public final class UpstreamPool {
    private final UpstreamTarget target;
    private final Bootstrap bootstrap;
    private final int maxConnections;
    private final LongAdder openGauge;
    private final LongAdder idleGauge;
    private final ArrayDeque<Channel> idle = new ArrayDeque<>();
    private int open;

    UpstreamPool(UpstreamTarget target, Bootstrap bootstrap, int maxConnections, LongAdder openGauge,
                 LongAdder idleGauge) {
        this.target = target;
        this.bootstrap = bootstrap;
        this.maxConnections = maxConnections;
        this.openGauge = openGauge;
        this.idleGauge = idleGauge;
    }

    /** A pooled connection if one is alive, else a new one; the listener hears which. */
    public void acquire(ResponseListener exchange) {
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
    public void connect(ResponseListener exchange) {
        if (open >= maxConnections) {
            exchange.upstreamConnectFailed(new IllegalStateException("connection limit reached: " + maxConnections
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

    /** Called by the connection's handler when it closed. */
    void closed(Channel channel) {
        open--;
        openGauge.decrement();
        if (idle.remove(channel)) {
            idleGauge.decrement();
        }
    }
}
