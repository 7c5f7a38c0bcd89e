package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.http.HttpRefusal;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.observe.AccessRecord;
import dev.trafficmanager.proxy.upstream.ResponseListener;
import dev.trafficmanager.proxy.upstream.UpstreamPool;
import dev.trafficmanager.proxy.upstream.UpstreamProtocol;
import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

/**
 * One request through the sidecar once its destination is known: borrow an upstream connection,
 * stream the request body up and the response body down with backpressure (each side reads again
 * only when its last write succeeded), then return the connection to the pool.
 *
 * <p>A state machine on the client connection's event loop (the upstream connection's too), so
 * nothing is synchronised: its {@link Phase} is one field, changed only by {@link #enter}, and it
 * ends once, by {@link #end} with an {@link Ending}. Each use of an upstream asks its circuit breaker
 * first (503 {@code upstream_circuit_open} while open); whether to try again is decided by
 * {@link UpstreamAttempts} ({@link RetryDecision}); the request body held and sent, by {@link RequestBody}.
 */
final class Exchange implements ResponseListener {
    private final ProxyHandler connection;
    private final ChannelHandlerContext ctx;
    private final ProxyServices services;
    private final HttpRequest request;
    private final String originForm;
    private final String forwardedHost;
    private final boolean clientKeepAlive;
    private final RequestBody body;
    private final UpstreamAttempts attempts;
    private final String upgrade; // the Upgrade forwarded (WebSocket...), or null
    private final ExchangeDeadlines deadlines;

    private Phase phase = Phase.ROUTING;
    private final UpstreamLeg upstream = new UpstreamLeg();
    private boolean upstreamKeepAlive;
    private int status;
    private final ExchangeAccounting accounting;

    Exchange(ProxyHandler connection, ChannelHandlerContext ctx, ProxyServices services, HttpRequest request,
             String originForm, String forwardedHost, AccessRecord record) {
        this.connection = connection;
        this.ctx = ctx;
        this.services = services;
        this.request = request;
        this.originForm = originForm;
        this.forwardedHost = forwardedHost;
        this.clientKeepAlive = HttpUtil.isKeepAlive(request);
        this.body = new RequestBody(request);
        this.attempts = new UpstreamAttempts(services, request.method());
        this.upgrade = Upgrade.requested(request);
        this.deadlines = new ExchangeDeadlines(connection.responseTimeout(), this::responseTimedOut,
                connection.grpcCall() ? Grpc.timeoutNanos(request.headers()) : 0);
        this.accounting = new ExchangeAccounting(services, record, originForm);
    }

    /** A message from the client while this exchange runs: its body, or the next request's start. */
    void fromClient(Object msg) {
        if (phase == Phase.ENDED || body.complete() || !(msg instanceof HttpContent content)) {
            connection.queue(msg);
            return;
        }
        HttpRefusal refusal = body.accept(content, services.client());
        if (refusal != null) {
            // The body's end stays unread, so the error says Connection: close and lingers.
            connection.setKeepAlive(false);
            fail(refusal.status(), refusal.code(), refusal.message());
            return;
        }
        if (upstream.connected()) {
            writeBody(content, true);
        } else {
            body.hold(content);
        }
    }

    /** Forwards to a route's upstream (its URL, or one of its endpoints), within its own timeout if it has one. */
    void forwardRoute(RouteEntry entry) {
        deadlines.useTimeout(entry.options().timeoutMs());
        forward(attempts.useRoute(entry));
    }

    /** Forwards to {@code upstream}: a route's, or an outside host passed through. */
    void forward(UpstreamTarget upstream) {
        if (phase == Phase.ENDED) {
            return;
        }
        UpstreamProtocol protocol = connection.upstreamProtocol(upstream);
        Forwarding.prepareRequest(request, originForm, upstream, connection.clientIp(), forwardedHost,
                services.router().via(request.protocolVersion()), upgrade, protocol == UpstreamProtocol.H2);
        attempts.aim(upstream, ctx.channel().eventLoop(), protocol);
        deadlines.startCall(ctx.executor(), this::responseTimedOut);
        useUpstream();
    }

    private void useUpstream() {
        if (phase == Phase.ENDED) {
            return; // a retry after the exchange ended
        }
        enter(Phase.CONNECTING);
        if (!attempts.admitAnywhere(request, originForm, connection::upstreamProtocol)) {
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "upstream_circuit_open", "upstream " + attempts.target()
                    + " has been failing: its circuit breaker is open; try again shortly");
            return;
        }
        deadlines.armResponse(); // also while a new HTTP/2 connection waits for the upstream's SETTINGS
        attempts.pool().acquire(this);
    }

    @Override
    public void upstreamConnected(Channel channel, boolean fromPool) {
        if (phase == Phase.ENDED) {
            attempts.pool().release(channel, true);
            return;
        }
        enter(Phase.SENDING);
        upstream.start(channel, fromPool, request, attempts.resending() && body.complete() && body.nothingHeld());
        HttpContent part;
        while ((part = body.next()) != null) {
            writeBody(part, false);
        }
        upstream.flush();
        if (!body.complete()) {
            ctx.read();
        }
        deadlines.armResponse();
        upstream.read();
    }

    @Override
    public void upstreamConnectFailed(Throwable cause) {
        if (phase == Phase.ENDED) {
            return;
        }
        if (cause instanceof UpstreamPool.NotHttp2) {
            upstreamClosed(cause); // before any stream: the same fall back to HTTP/1.1
            return;
        }
        if (cause instanceof UpstreamPool.Exhausted) {
            attempts.abandon(); // our own limit, not the upstream's failure: neither counted nor retried
        } else {
            attempts.answered(false);
            if (retried(AttemptFailure.CONNECT_FAILED, null)) {
                return;
            }
        }
        unreachable("cannot connect to " + attempts.target() + ": " + Failures.describe(cause) + attempts.tries());
    }

    private void writeBody(HttpContent content, boolean flush) {
        boolean progress = body.sending(content);
        upstream.write(content, flush).addListener(f -> {
            if (f.isSuccess() && phase != Phase.ENDED) {
                // The response timeout counts from the request's last progress: a long upload is not cut off.
                if (progress && !phase.responseStarted()) {
                    deadlines.armResponse();
                }
                if (!body.complete()) {
                    ctx.read();
                }
            }
        });
    }

    @Override
    public void upstreamResponse(HttpObject msg) {
        if (phase == Phase.ENDED) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg.decoderResult().isFailure()) {
            // Broken framing, an oversized head or garbage: the connection is unusable, the response untrusted.
            Throwable cause = msg.decoderResult().cause();
            ReferenceCountUtil.release(msg);
            attempts.answered(false);
            unreachable("upstream " + attempts.target() + " sent an invalid response: " + Failures.describe(cause));
            return;
        }
        if (msg instanceof HttpResponse response) {
            ChannelFuture head = startResponse(response);
            if (phase == Phase.ENDED || phase == Phase.CONNECTING) { // ended, or a gateway error being retried
                return;
            }
            if (msg instanceof FullHttpResponse && phase.responseStarted()) {
                finish(head); // HTTP/2: a head with END_STREAM (a trailers-only gRPC answer) comes whole
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            boolean last = content instanceof LastHttpContent;
            if (last && status == 101 && upgrade != null) { // switched protocols: a tunnel, out of the pool
                Channel tunnelled = upstream.detach(attempts.pool());
                ctx.writeAndFlush(content);
                end(Ending.COMPLETED, 101);
                connection.upgraded(tunnelled, upgrade);
                return;
            }
            if (!phase.responseStarted()) {
                // the end of an informational response (100 Continue), sent whole already: the real one follows
                if (!(msg instanceof FullHttpResponse)) {
                    ReferenceCountUtil.release(content);
                }
                upstream.read();
                return;
            }
            ChannelFuture write = ctx.writeAndFlush(accounting.sent(content));
            if (last) {
                finish(write);
            } else {
                write.addListener(f -> {
                    if (f.isSuccess()) {
                        if (phase != Phase.ENDED) {
                            upstream.read();
                        }
                    } else {
                        abort();
                    }
                });
            }
        } else {
            upstream.read();
        }
    }

    private ChannelFuture startResponse(HttpResponse response) {
        int code = response.status().code();
        boolean switching = code == 101 && upgrade != null;
        boolean informational = code >= 100 && code < 200 && !switching;
        String unforwardable = Forwarding.unforwardable(response, connection.clientVersion(), upgrade != null);
        if (unforwardable != null) {
            ReferenceCountUtil.release(response);
            unreachable("upstream " + attempts.target() + " " + unforwardable);
            return null;
        }
        String chosen = response.headers().get(HttpHeaderNames.UPGRADE, upgrade); // prepareResponse removes it
        boolean bodyless = informational || switching || code == 204 || code == 304 || request.method().equals(HttpMethod.HEAD);
        boolean keepAlive = false;
        if (!informational) {
            // A gateway error from the upstream is its own failure (or its upstream's): counted.
            boolean gatewayError = code == 502 || code == 503 || code == 504;
            attempts.answered(!gatewayError, code < 500);
            if (gatewayError && retried(AttemptFailure.GATEWAY_ERROR, response)) {
                return null;
            }
            deadlines.cancelResponse();
            enter(Phase.RESPONDING);
            status = code;
            upstreamKeepAlive = HttpUtil.isKeepAlive(response);
            services.metrics().upstreamLatency(System.nanoTime() - upstream.sentAtNanos());
            keepAlive = clientKeepAlive && !services.drain().draining() && !body.unread() // a partly unread body would be
                    && Forwarding.keepsAlive(response, connection.clientVersion(), bodyless); // taken for the next request
            connection.setKeepAlive(keepAlive);
        }
        Forwarding.prepareResponse(response, connection.clientVersion(), informational || keepAlive, bodyless);
        if (switching) {
            Upgrade.restore(response, chosen);
        }
        HttpResponse head = informational ? Forwarding.whole(response) : response; // HTTP/2 sends a 1xx as one frame
        return head instanceof FullHttpResponse ? ctx.writeAndFlush(head) : ctx.write(head);
    }

    /** The response's last part is written: pool the upstream connection, go on with the client. */
    private void finish(ChannelFuture lastWrite) {
        end(Ending.COMPLETED, status);
        connection.exchangeEnded(lastWrite, body.unread());
    }

    @Override
    public void upstreamClosed(Throwable cause) {
        if (phase == Phase.ENDED) {
            return;
        }
        upstream.lost();
        if (phase.responseStarted()) {
            abort(); // the response is cut: the client must see the truncation, not a clean end
            return;
        }
        deadlines.cancelResponse();
        if (retried(AttemptFailure.closed(cause, attempts.target().protocol()), null)) {
            return;
        }
        attempts.answered(false);
        unreachable("upstream " + attempts.target() + " closed the connection before responding"
                + (cause == null ? "" : ": " + Failures.describe(cause)));
    }

    /** Starts the retry {@link UpstreamAttempts} allows after {@code failure}, if any: a new connection
     * at once (the keep-alive race; the breaker's admission stands), or the whole attempt after a backoff,
     * to another endpoint when the route has one. A gateway error's {@code answer} is dropped, its connection closed. */
    private boolean retried(AttemptFailure failure, HttpResponse answer) {
        RetryDecision decision = attempts.decide(failure, body.sent(), upstream.headWriteFailed(), upstream.reused());
        if (!decision.retries()) {
            return false;
        }
        if (answer != null) {
            upstream.discard(answer, attempts.pool());
            deadlines.cancelResponse();
        }
        enter(Phase.CONNECTING);
        attempts.perform(decision, ctx.executor(),
                attempts.retry(decision, this, request, originForm, connection::upstreamProtocol, this::useUpstream));
        return true;
    }

    @Override
    public void upstreamReadComplete() {
        if (phase != Phase.ENDED) {
            ctx.flush(); // a response head alone (server-sent events, long polls) goes out now
        }
    }

    @Override
    public void upstreamIdle() {
        if (phase.responseStarted()) {
            upstream.close(); // a stalled response body: upstreamClosed cuts the client off
        }
    }

    /** The response timeout, or a gRPC call's deadline (which also cuts a response under way: RST_STREAM). */
    private void responseTimedOut() {
        if (phase != Phase.ENDED) {
            attempts.answered(false);
            fail(HttpResponseStatus.GATEWAY_TIMEOUT, "upstream_timeout", "no response from " + attempts.target() + " within "
                    + deadlines.describe());
        }
    }

    /** The client connection closed: drop everything, never pool a half-used upstream connection. */
    void clientGone() {
        end(Ending.CLIENT_GONE, phase.responseStarted() ? status : 0);
    }

    boolean ended() { // answered, failed, cut, or its client gone
        return phase == Phase.ENDED;
    }

    /** Answers with an error (requests refused before a lookup too); once the response started, it can only be cut. */
    void fail(HttpResponseStatus failure, String code, String message) {
        accounting.failed(code);
        if (phase.responseStarted()) {
            abort();
        } else if (end(Ending.FAILED, failure.code())) {
            connection.respondError(failure, code, message, clientKeepAlive, body.unread());
        }
    }

    private void unreachable(String why) {
        fail(HttpResponseStatus.BAD_GATEWAY, "upstream_unreachable", why);
    }

    /** Ends an exchange whose response already started: close the client connection. */
    private void abort() {
        if (end(Ending.CUT, status)) {
            connection.close();
        }
    }

    void holdSlot(String slot) { // one of its tenant's slots in the bulkhead, until it ends
        accounting.holdSlot(slot);
    }

    private void enter(Phase next) {
        if (!phase.allows(next)) {
            throw new IllegalStateException("exchange in phase " + phase + " cannot go to " + next);
        }
        phase = next;
    }

    /** The one way an exchange ends: counted once by status (0: none went out), its slot, admission, timer and
     * held parts given back, its upstream connection pooled only if {@link Ending#COMPLETED} cleanly, else
     * closed; the caller then does what {@code how} means for the client. False when it had already ended. */
    private boolean end(Ending how, int responseStatus) {
        if (phase == Phase.ENDED) {
            return false;
        }
        boolean reusable = how == Ending.COMPLETED && upstreamKeepAlive && body.complete() && body.nothingHeld();
        enter(Phase.ENDED);
        accounting.ended(responseStatus, attempts, body.bytes(), how != Ending.FAILED); // a failure's, once answered
        attempts.close();
        deadlines.close();
        body.releaseHeld();
        upstream.release(attempts.pool(), reusable);
        return true;
    }
}
