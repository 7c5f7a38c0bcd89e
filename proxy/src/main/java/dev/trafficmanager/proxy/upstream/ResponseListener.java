package dev.trafficmanager.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpObject;

/**
 * The exchange an upstream connection currently serves. Every call runs on the event loop that
 * owns both the client and the upstream connection.
 */
public interface ResponseListener {

    /** A connection is ready; {@code reused} when it came from the pool. */
    void upstreamConnected(Channel upstream, boolean reused);

    /** The connection could not be opened (refused, timed out, TLS failed, pool full). */
    void upstreamConnectFailed(Throwable cause);

    /** A response part; the listener owns {@code message} and must pass it on or release it. */
    void upstreamResponse(HttpObject message);

    /** The upstream's bytes of one read are handed over: time to flush what was written. */
    void upstreamReadComplete();

    /** The connection closed or failed before the exchange ended; {@code cause} may be null. */
    void upstreamClosed(Throwable cause);

    /** The response body stalled past the stream idle timeout. */
    void upstreamIdle();
}
