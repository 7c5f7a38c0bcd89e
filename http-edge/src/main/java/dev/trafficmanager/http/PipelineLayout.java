package dev.trafficmanager.http;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import java.util.ArrayList;
import java.util.List;

/**
 * Every Netty pipeline of the sidecar and the control API, with its handlers' names in order; each
 * is assembled only through {@link #assemble}, and a test compares each built pipeline with its
 * layout (reactor-netty's {@code NettyPipeline} names its handlers the same way). Names ending in
 * {@code ?} are optional: a null handler leaves them out.
 * <pre>
 * PROXY          socket -> sniff (ProtocolDetector: the first bytes are the HTTP/2 preface, or not);
 *                          it replaces itself with PROXY_HTTP1 or PROXY_HTTP2
 * PROXY_HTTP1    socket -> http (HttpServerCodec: limits; 400/414/431 on malformed or oversized heads)
 *                       -> proxy (ProxyHandler: routing, exchanges, idle and response timeouts, lingering close)
 * PROXY_HTTP2    socket -> h2-idle (IdleStateHandler) -> h2 (Http2FrameCodec: limits, rapid-reset guard)
 *                       -> h2-streams (Http2MultiplexHandler: a child channel per stream)
 *                       -> h2-guard (Http2Guard: SETTINGS/PING floods, idle close, drain GOAWAY)
 * PROXY_STREAM   stream -> h2-http (Http2StreamFrameToHttpObjectCodec) -> proxy (ProxyHandler, one request)
 * TUNNEL         socket -> tunnel-idle (IdleStateHandler) -> tunnel (Tunnel.Relay, bytes to the upstream);
 *                       replaces PROXY_HTTP1's handlers once a CONNECT's upstream connection is up or an
 *                       upgrade (WebSocket) was accepted; the upstream connection of an upgrade the same way
 * UPSTREAM       socket -> [tls] (SslHandler, https upstreams) -> http (HttpClientCodec)
 *                       -> upstream (UpstreamHandler: the exchange's listener, stream-idle and pool-idle timeouts)
 * UPSTREAM_HTTP2 socket -> [tls] -> h2 (Http2FrameCodec) -> h2-streams (Http2MultiplexHandler)
 *                       -> h2-conn (Http2Connection.Handler: SETTINGS, GOAWAY, ALPN)
 * UPSTREAM_STREAM stream -> h2-http (Http2StreamFrameToHttpObjectCodec) -> upstream (UpstreamHandler)
 * ADMIN          socket -> codec (HttpServerCodec) -> aggregator (8 KiB) -> admin (AdminHandler)
 * AGENT          unix socket -> frames (LengthFieldBasedFrameDecoder) -> length (LengthFieldPrepender)
 *                       -> agent (AgentServer: lookups of the node agent's sidecars) or agent-client (AgentClient)
 * CONTROL_API    socket -> idle (60 s) -> codec (HttpServerCodec) -> body-limit (BodyLimitHandler, 413)
 *                       -> api (ApiHandler: endpoints on workers, in order, lingering close)
 * </pre>
 */
public enum PipelineLayout {
    PROXY("sniff"),
    PROXY_HTTP1("http", "proxy"),
    PROXY_HTTP2("h2-idle", "h2", "h2-streams", "h2-guard"),
    PROXY_STREAM("h2-http", "proxy"),
    TUNNEL("tunnel-idle", "tunnel"),
    UPSTREAM("tls?", "http", "upstream"),
    UPSTREAM_HTTP2("tls?", "h2", "h2-streams", "h2-conn"),
    UPSTREAM_STREAM("h2-http", "upstream"),
    ADMIN("codec", "aggregator", "admin"),
    AGENT("frames", "length", "agent"),
    CONTROL_API("idle", "codec", "body-limit", "api");

    private final String[] slots;

    PipelineLayout(String... slots) {
        this.slots = slots;
    }

    /** The name of the handler in position {@code slot} (for lookups and {@code remove}). */
    public String name(int slot) {
        return slots[slot].endsWith("?") ? slots[slot].substring(0, slots[slot].length() - 1) : slots[slot];
    }

    /** The names of a pipeline built with {@code optionalPresent} (its optional handlers there or not). */
    public List<String> names(boolean optionalPresent) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < slots.length; i++) {
            if (optionalPresent || !slots[i].endsWith("?")) {
                names.add(name(i));
            }
        }
        return names;
    }

    /** Adds {@code handlers} at the pipeline's end, one per slot in order, under the slots' names. */
    public ChannelPipeline assemble(ChannelPipeline pipeline, ChannelHandler... handlers) {
        if (handlers.length != slots.length) {
            throw new IllegalArgumentException(this + " has " + slots.length + " handlers, not " + handlers.length);
        }
        for (int i = 0; i < slots.length; i++) {
            if (handlers[i] != null) {
                pipeline.addLast(name(i), handlers[i]);
            } else if (!slots[i].endsWith("?")) {
                throw new IllegalArgumentException(this + ": handler " + name(i) + " is required");
            }
        }
        return pipeline;
    }
}
