package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.http.HttpRefusal;
import dev.trafficmanager.http.LingeringClose;
import dev.trafficmanager.proxy.Deadline;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.observe.AccessRecord;
import dev.trafficmanager.proxy.observe.TraceContext;
import dev.trafficmanager.proxy.upstream.UpstreamProtocol;
import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of the proxy port: asks the {@link RequestRouter} where a request goes,
 * opens a CONNECT tunnel or resolves the route
 * (from the near cache or L1 at once, else asynchronously) and hands the request to an
 * {@link Exchange}. One request is in flight per connection; messages of a pipelined next request
 * wait in a queue, and the connection reads no more until they are handled, so the queue stays
 * within one read's worth. Created per channel; runs on its event loop.
 */
public final class ProxyHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ProxyHandler.class);

    private final ProxyServices services;
    private final Destination destination = new Destination();
    private final ArrayDeque<Object> queued = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private String clientIp = "unknown";
    private int localPort = -1;
    private HttpVersion clientVersion = HttpVersion.HTTP_1_1;
    /** This is one HTTP/2 stream (one request), not a connection. */
    private boolean stream;
    /** The request in flight is a gRPC call: the sidecar's own errors take gRPC's form. */
    private boolean grpc;
    private Exchange exchange;
    /** A CONNECT waiting for its upstream connection; the connection reads nothing meanwhile. */
    private Tunnel tunnel;
    private boolean keepAlive = true;
    private boolean closing;
    private final LingeringClose linger = new LingeringClose();
    /** The client's idle timeout, armed while no request is in flight (it also ends a request head sent too slowly). */
    private Deadline idle;
    /** The response timeout of the request in flight (armed by its exchange). */
    private ResponseTimeout response;
    private RouteLookup lookup;
    /** The access log's record of the request in flight; null when nothing watches requests. */
    private AccessRecord record;
    private final Runnable idleTimeout = this::idleTimedOut;

    public ProxyHandler(ProxyServices services) {
        this.services = services;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().remoteAddress() instanceof InetSocketAddress remote && remote.getAddress() != null) {
            clientIp = remote.getAddress().getHostAddress();
        }
        if (ctx.channel().localAddress() instanceof InetSocketAddress local) {
            localPort = local.getPort();
        }
        stream = ctx.channel() instanceof Http2StreamChannel;
        if (!stream) { // a stream closes with its connection, which the drain knows (Http2Guard)
            services.drain().opened(ctx.channel());
        }
        idle = new Deadline(ctx.executor());
        response = new ResponseTimeout(ctx.executor(), services.upstream().responseTimeout());
        lookup = new RouteLookup(ctx, services, clientIp);
        armIdle();
        ctx.read();
    }

    private void armIdle() {
        idle.arm(services.clientIdleTimeoutNanos(), idleTimeout);
    }

    private void idleTimedOut() {
        if (exchange == null && !closing) {
            ctx.close(); // an idle keep-alive client; a request in flight has its own timeouts
        }
    }

    ResponseTimeout responseTimeout() {
        return response;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (linger.active()) {
            linger.discard(ctx, msg);
            return;
        }
        dispatch(msg);
        if (exchange == null && tunnel == null && !closing) {
            ctx.read();
        }
    }

    private void dispatch(Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
        } else if (exchange != null) {
            exchange.fromClient(msg);
        } else if (tunnel != null) {
            // The CONNECT's own (empty) end; a client must wait for the 200 before it sends more.
            boolean end = msg instanceof LastHttpContent last && !last.content().isReadable();
            ReferenceCountUtil.release(msg);
            if (!end) {
                close();
            }
        } else {
            handle(msg);
        }
    }

    private void handle(Object msg) {
        if (msg instanceof FullHttpRequest full && full.decoderResult().isSuccess()) {
            // HTTP/2 hands a request that ends with its headers over whole: its end goes on like HTTP/1.1's.
            start(new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers()));
            dispatch(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
        } else if (msg instanceof HttpRequest request) {
            start(request);
        } else {
            ReferenceCountUtil.release(msg); // the (empty) end of a request already answered
        }
    }

    private void start(HttpRequest request) {
        idle.disarm();
        record = services.observer().start(request, stream);
        clientVersion = request.protocolVersion();
        grpc = Grpc.isCall(request.headers());
        DecoderResult decoded = request.decoderResult();
        if (decoded.isFailure()) {
            services.observer().traceContext(request, record, false); // its own ids, if it got that far, none added
            // A request that failed to decode arrives as a FullHttpRequest holding a buffer.
            ReferenceCountUtil.release(request);
            refuseMalformed(decoded.cause());
            return;
        }
        boolean refused = RequestLimits.refused(request, services.client(), destination);
        services.observer().traceContext(request, record, !refused); // ids are added only within the header count
        if (!refused) {
            services.router().decide(request, localPort, destination);
        }
        if (destination.kind() == Destination.Kind.TUNNEL && stream) {
            destination.refuse(HttpResponseStatus.NOT_IMPLEMENTED, "connect_unsupported",
                    "CONNECT is served over HTTP/1.1 only; open the tunnel on an HTTP/1.1 connection");
        } else if (destination.kind() == Destination.Kind.TUNNEL) {
            tunnel = new Tunnel(this, ctx, services, destination.outside(), HttpUtil.isKeepAlive(request));
            tunnel.open();
            return;
        }
        exchange = new Exchange(this, ctx, services, request, destination.originForm(), destination.forwardedHost(), record);
        switch (destination.kind()) {
            case ROUTE -> {
                if (holdsTenantSlot(destination.probe.tenant())) {
                    lookup.route(exchange, destination.probe, request.headers(), record);
                }
            }
            case PASSTHROUGH -> {
                if (holdsTenantSlot(destination.tenant())) {
                    services.metrics().passThrough("http");
                    exchange.forward(destination.outside());
                }
            }
            default -> exchange.fail(destination.status(), destination.code(), destination.message());
        }
    }

    /** Takes a slot of the tenant's in the bulkhead (if it is on); false when it answered 503. */
    private boolean holdsTenantSlot(CharSequence tenant) {
        TenantBulkhead bulkhead = services.bulkhead();
        if (!bulkhead.enabled() || tenant == null) {
            return true;
        }
        String slot = bulkhead.tryAcquire(tenant);
        if (slot == null) {
            exchange.fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "tenant_overloaded", "tenant " + tenant
                    + " has " + bulkhead.cap() + " requests in flight through this sidecar (TM_PROXY_TENANT_MAX_IN_FLIGHT)");
            return false;
        }
        exchange.holdSlot(slot);
        return true;
    }

    /** The CONNECT's upstream could not be reached: answered (unless the client is gone); the connection goes on if it may. */
    void tunnelFailed(HttpResponseStatus status, String code, String message, boolean clientKeepAlive) {
        tunnel = null;
        ownEnded(status.code(), code, destination.outside().authority());
        if (!closing) {
            services.metrics().response(status.code());
            respondError(status, code, message, clientKeepAlive, false);
        } else {
            finishRecord(0);
        }
    }

    /**
     * What the route pins, else the client's protocol: HTTP/2 from an HTTP/2 client (h2c, or over TLS
     * h2 by ALPN), unless the upstream turned out to speak only HTTP/1.1 lately; HTTP/1.1 otherwise.
     */
    UpstreamProtocol upstreamProtocol(UpstreamTarget target) {
        return switch (target.protocol()) {
            case HTTP1 -> UpstreamProtocol.HTTP1;
            case H2 -> UpstreamProtocol.H2;
            case AUTO -> stream && !services.pools().speaksOnlyHttp1(target) ? UpstreamProtocol.H2 : UpstreamProtocol.HTTP1;
        };
    }

    /** The upstream accepted the request's upgrade (its 101 went out): the connection becomes a tunnel. */
    void upgraded(Channel upstream, String protocol) {
        exchange = null;
        Tunnel.upgraded(this, ctx.channel(), upstream, services, protocol);
    }

    /** The tunnel is up and takes the connection over: this handler leaves the pipeline. */
    void handOver() {
        if (tunnel != null) { // a CONNECT's (an upgrade's exchange logged its 101 itself)
            ownEnded(200, null, destination.outside().authority());
            finishRecord(0);
        }
        tunnel = null;
        closing = true;
        idle.close();
        response.close();
        releaseQueued();
    }

    private void refuseMalformed(Throwable cause) {
        HttpRefusal refusal = HttpRefusal.malformed(cause);
        services.metrics().response(refusal.status().code());
        ownEnded(refusal.status().code(), refusal.code(), null);
        // The decoder cannot find the next request after a malformed one: always close.
        // Lingering: with an oversized head (431, 414) the client is most likely still sending.
        respondError(refusal.status(), refusal.code(), refusal.message(), false, true);
    }

    /**
     * Writes an error response; the exchange (if any) has already ended. {@code bodyUnread}: the
     * request's body is still (partly) on the wire, so the connection closes after the response.
     */
    void respondError(HttpResponseStatus status, String code, String message, boolean clientKeepAlive,
                      boolean bodyUnread) {
        keepAlive &= clientKeepAlive;
        services.metrics().error(code);
        FullHttpResponse response = grpc ? Grpc.error(status, code, message) : ErrorResponses.error(ctx.alloc(), status,
                code, message, keepsConnection(bodyUnread), record == null ? null : record.traceId());
        TraceContext.stamp(response.headers(), record);
        finishRecord(response.content().readableBytes());
        exchangeEnded(ctx.writeAndFlush(response), bodyUnread);
    }

    /** A request answered without an exchange ended: a malformed one, a CONNECT's tunnel opened or refused. */
    private void ownEnded(int status, String code, String upstream) {
        if (record != null) {
            record.upstream(upstream);
            record.error(code);
            record.ended(status, 0, 0);
        }
    }

    /** Hands the request's record (ended; {@code sent} more body bytes written) to the access log, once. */
    private void finishRecord(int sent) {
        if (record != null) {
            record.sent(sent);
            services.observer().finish(record);
            record = null;
        }
    }

    /** Whether the connection serves another request after this one. */
    private boolean keepsConnection(boolean bodyUnread) {
        return keepAlive && !bodyUnread && !services.drain().draining();
    }

    /**
     * The exchange is over; {@code write} is its last write. Go on with the connection, or close it:
     * at once, or, when the client may still be sending a body we did not read, after a lingering
     * close (shut our side down, then discard what arrives for a while), so the client's kernel does
     * not answer our close with a reset that destroys the response before the client reads it.
     */
    void exchangeEnded(ChannelFuture write, boolean bodyUnread) {
        exchange = null;
        if (stream) { // one request a stream: it ends with the response (reset if the request is still coming)
            closing = true;
            write.addListener(ChannelFutureListener.CLOSE);
            idle.arm(services.clientIdleTimeoutNanos(), ctx::close); // also if the client's window holds it back
            return;
        }
        if (!keepsConnection(bodyUnread)) {
            closing = true;
            releaseQueued();
            if (bodyUnread) {
                linger.after(write, ctx);
            } else {
                write.addListener(ChannelFutureListener.CLOSE);
            }
            return;
        }
        keepAlive = true;
        // Messages read ahead belong to the next requests: the first starts an exchange, its body
        // parts go to that exchange, and whatever follows its end is queued again by it.
        if (!queued.isEmpty()) { // only pipelining reads ahead: no copy on the common path
            ArrayDeque<Object> ahead = new ArrayDeque<>(queued);
            queued.clear();
            Object msg;
            while ((msg = ahead.poll()) != null) {
                dispatch(msg);
            }
        }
        if (exchange == null && tunnel == null && !closing) { // a pipelined CONNECT may be connecting
            armIdle();
            ctx.read();
        }
    }

    /** A message that belongs after the current exchange. */
    void queue(Object msg) {
        queued.add(msg);
    }

    void setKeepAlive(boolean keepAlive) {
        this.keepAlive = keepAlive;
    }

    void close() {
        closing = true;
        releaseQueued();
        ctx.close();
    }

    String clientIp() {
        return clientIp;
    }

    HttpVersion clientVersion() {
        return clientVersion;
    }

    /** Whether the request in flight is a gRPC call (read once, from its content type). */
    boolean grpcCall() {
        return grpc;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closing = true;
        idle.close();
        response.close();
        if (exchange != null) {
            exchange.clientGone();
            exchange = null;
        } else if (tunnel != null) { // a CONNECT whose client left while its upstream connected
            ownEnded(0, null, destination.outside().authority());
            finishRecord(0);
        }
        releaseQueued();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            log.debug("client {} connection failed: {}", clientIp, cause.toString());
        } else {
            log.error("client {} connection failed", clientIp, cause);
        }
        ctx.close();
    }

    private void releaseQueued() {
        Object msg;
        while ((msg = queued.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }
}
