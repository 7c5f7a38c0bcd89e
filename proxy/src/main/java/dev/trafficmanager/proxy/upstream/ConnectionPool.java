package dev.trafficmanager.proxy.upstream;

import dev.trafficmanager.proxy.resilience.CircuitBreaker;
import io.netty.channel.Channel;

/**
 * Connections to one upstream from one event loop, in one protocol: {@link UpstreamPool} keeps
 * HTTP/1.1 keep-alive connections, one request at a time each; {@link MultiplexedPool} opens HTTP/2
 * streams over shared connections. Either way an exchange gets a {@link Channel} that carries one
 * request as Netty's HTTP/1.1 objects. Confined to its event loop.
 */
public interface ConnectionPool {

    /**
     * Whether the upstream's breaker lets a request through now (counted when it does not). A true
     * answer must be followed by exactly one report to {@link #breaker()}.
     */
    boolean admit();

    CircuitBreaker breaker();

    /** A channel for one request, reusing what is open where it can; the listener hears which. */
    void acquire(ResponseListener exchange);

    /** A channel on a connection opened for it: for the retry after a reused one failed. */
    void connect(ResponseListener exchange);

    /** Back from an exchange: kept for the next one when {@code reusable} and the protocol allows, else closed. */
    void release(Channel channel, boolean reusable);

    /**
     * An HTTP/1.1 connection that switched protocols (101) leaves the pool without closing: it is
     * no longer counted, and its HTTP handlers are the caller's to replace.
     */
    void detach(Channel channel);

    /** Whether no connection is open: then the pool (and its breaker) may be dropped once unused a while. */
    boolean idle();

    long lastUsedNanos();

    /** Why {@code channel} closed, for its exchange, when the pool knows better than "closed": else null. */
    default Throwable closeCause(Channel channel) {
        return null;
    }

    /** Called by a channel's {@link UpstreamHandler} when it closed. */
    void closed(Channel channel);
}
