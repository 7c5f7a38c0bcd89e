package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.http.HttpRefusal;
import dev.trafficmanager.proxy.upstream.ResponseListener;
import dev.trafficmanager.proxy.upstream.UpstreamPool;
import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
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

    private Phase phase = Phase.ROUTING;
    private UpstreamTarget target;
    private Channel upstream;
    private boolean reused; // the upstream connection came from the pool
    private boolean headWriteFailed;
    private boolean upstreamKeepAlive;
    private int status;
    private long sentAtNanos;
    private final Runnable responseTimeout = this::responseTimedOut;
    private String bulkheadSlot; // the tenant's slot in the bulkhead, while held

    Exchange(ProxyHandler connection, ChannelHandlerContext ctx, ProxyServices services, HttpRequest request,
             String originForm, String forwardedHost) {
        this.connection = connection;
        this.ctx = ctx;
        this.services = services;
        this.request = request;
        this.originForm = originForm;
        this.forwardedHost = forwardedHost;
        this.clientKeepAlive = HttpUtil.isKeepAlive(request);
        this.body = new RequestBody(request);
        this.attempts = new UpstreamAttempts(services, request.method());
        services.drain().started();
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
            if (!phase.responseStarted()) {
                fail(refusal.status(), refusal.code(), refusal.message());
            } else {
                abort();
            }
            return;
        }
        if (upstream != null) {
            writeBody(content, true);
        } else {
            body.hold(content);
        }
    }

    /** Forwards to {@code upstream}: a route's, or an outside host passed through. */
    void forward(UpstreamTarget upstream) {
        if (phase == Phase.ENDED) {
            return;
        }
        target = upstream;
        Forwarding.prepareRequest(request, originForm, target, connection.clientIp(), forwardedHost,
                services.router().via(request.protocolVersion()));
        attempts.use(services.pools().pool(ctx.channel().eventLoop(), target));
        useUpstream();
    }

    private void useUpstream() {
        if (phase == Phase.ENDED) {
            return; // a retry after the exchange ended
        }
        enter(Phase.CONNECTING);
        if (!attempts.admit()) {
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "upstream_circuit_open", "upstream " + target
                    + " has been failing: its circuit breaker is open; try again shortly");
            return;
        }
        attempts.pool().acquire(this);
    }

    @Override
    public void upstreamConnected(Channel channel, boolean fromPool) {
        if (phase == Phase.ENDED) {
            attempts.pool().release(channel, true);
            return;
        }
        enter(Phase.SENDING);
        upstream = channel;
        reused = fromPool;
        sentAtNanos = System.nanoTime();
        channel.write(request).addListener(f -> {
            if (!f.isSuccess()) {
                headWriteFailed = true;
                channel.close();
            }
        });
        if (attempts.raceRetried() && body.complete() && body.nothingHeld()) {
            // Only empty body parts were sent on the failed connection: the end of the body again.
            channel.write(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        HttpContent part;
        while ((part = body.next()) != null) {
            writeBody(part, false);
        }
        channel.flush();
        if (!body.complete()) {
            ctx.read();
        }
        armResponseTimer();
        channel.read();
    }

    @Override
    public void upstreamConnectFailed(Throwable cause) {
        if (phase == Phase.ENDED) {
            return;
        }
        if (cause instanceof UpstreamPool.Exhausted) {
            attempts.abandon(); // our own limit, not the upstream's failure: neither counted nor retried
        } else {
            attempts.answered(false);
            if (retried(AttemptFailure.CONNECT_FAILED)) {
                return;
            }
        }
        fail(HttpResponseStatus.BAD_GATEWAY, "upstream_unreachable", "cannot connect to " + target + ": " + Failures.describe(cause)
                + attempts.tries());
    }

    private void writeBody(HttpContent content, boolean flush) {
        boolean progress = body.sending(content);
        Channel channel = upstream;
        ChannelFuture write = flush ? channel.writeAndFlush(content) : channel.write(content);
        write.addListener(f -> {
            if (!f.isSuccess()) {
                channel.close();
            } else if (phase != Phase.ENDED) {
                // The response timeout counts from the last progress of the request, so a long upload
                // is not cut off while an upstream that stops reading it still is.
                if (progress && !phase.responseStarted()) {
                    armResponseTimer();
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
            // Broken framing, an oversized head or garbage: the connection is unusable and what was
            // forwarded cannot be trusted.
            Throwable cause = msg.decoderResult().cause();
            ReferenceCountUtil.release(msg);
            attempts.answered(false);
            if (phase.responseStarted()) { // both close the upstream connection (end)
                abort();
            } else {
                fail(HttpResponseStatus.BAD_GATEWAY, "upstream_unreachable",
                        "upstream " + target + " sent an invalid response: " + Failures.describe(cause));
            }
            return;
        }
        if (msg instanceof HttpResponse response) {
            startResponse(response);
            if (phase == Phase.ENDED) {
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            boolean last = content instanceof LastHttpContent;
            if (!phase.responseStarted()) {
                // the end of an informational response (100 Continue): the real one follows
                ctx.writeAndFlush(content);
                upstream.read();
                return;
            }
            ChannelFuture write = ctx.writeAndFlush(content);
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

    private void startResponse(HttpResponse response) {
        int code = response.status().code();
        boolean informational = code >= 100 && code < 200;
        String unforwardable = Forwarding.unforwardable(response, connection.clientVersion());
        if (unforwardable != null) {
            ReferenceCountUtil.release(response);
            fail(HttpResponseStatus.BAD_GATEWAY, "upstream_unreachable", "upstream " + target + " " + unforwardable);
            return;
        }
        boolean bodyless = informational || code == 204 || code == 304 || request.method().equals(HttpMethod.HEAD);
        boolean keepAlive = false;
        if (!informational) {
            // A gateway error from the upstream is its own failure (or its upstream's): counted.
            attempts.answered(code != 502 && code != 503 && code != 504);
            cancelTimer();
            enter(Phase.RESPONDING);
            status = code;
            upstreamKeepAlive = HttpUtil.isKeepAlive(response);
            services.metrics().upstreamLatency(System.nanoTime() - sentAtNanos);
            // Not while draining, nor when the request's body is partly unread (it would be taken for
            // the next request), nor for an HTTP/1.0 client that learns an unframed body's end from the close.
            keepAlive = clientKeepAlive && !services.drain().draining() && !body.unread()
                    && (connection.clientVersion().equals(HttpVersion.HTTP_1_1) || Forwarding.framedForHttp10(response, bodyless));
            connection.setKeepAlive(keepAlive);
        }
        Forwarding.prepareResponse(response, connection.clientVersion(), informational || keepAlive, bodyless);
        ctx.write(response);
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
        upstream = null;
        if (phase.responseStarted()) {
            abort(); // the response is cut: the client must see the truncation, not a clean end
            return;
        }
        cancelTimer();
        if (retried(AttemptFailure.CLOSED_BEFORE_RESPONSE)) {
            return;
        }
        attempts.answered(false);
        fail(HttpResponseStatus.BAD_GATEWAY, "upstream_unreachable", "upstream " + target
                + " closed the connection before responding" + (cause == null ? "" : ": " + Failures.describe(cause)));
    }

    /** Starts the retry {@link UpstreamAttempts} allows after {@code failure}, if any: a new connection
     * at once (the keep-alive race; the breaker's admission stands), or the whole attempt after a backoff. */
    private boolean retried(AttemptFailure failure) {
        RetryDecision decision = attempts.decide(failure, body.sent(), headWriteFailed, reused);
        if (!decision.retries()) {
            return false;
        }
        enter(Phase.CONNECTING);
        headWriteFailed = false;
        attempts.perform(decision, ctx.executor(), decision.kind() == RetryDecision.Kind.RECONNECT_NOW
                ? () -> attempts.pool().connect(this) : this::useUpstream);
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
        if (phase.responseStarted() && upstream != null) {
            upstream.close(); // a stalled response body: upstreamClosed cuts the client off
        }
    }

    private void responseTimedOut() {
        if (phase == Phase.CONNECTING || phase == Phase.SENDING) {
            attempts.answered(false);
            fail(HttpResponseStatus.GATEWAY_TIMEOUT, "upstream_timeout", "no response from " + target + " within "
                    + connection.responseTimeout().millis() + " ms");
        }
    }

    /** The client connection closed: drop everything, never pool a half-used upstream connection. */
    void clientGone() {
        end(Ending.CLIENT_GONE, phase.responseStarted() ? status : 0);
    }

    /** Whether the exchange is over (answered, failed, cut, or its client gone). */
    boolean ended() {
        return phase == Phase.ENDED;
    }

    /** Answers with an error before any response byte went out (also for requests refused before a lookup). */
    void fail(HttpResponseStatus failure, String code, String message) {
        if (end(Ending.FAILED, failure.code())) {
            connection.respondError(failure, code, message, clientKeepAlive, body.unread());
        }
    }

    /** Ends an exchange whose response already started: close the client connection. */
    private void abort() {
        if (end(Ending.CUT, status)) {
            connection.close();
        }
    }

    /** The exchange holds one of its tenant's slots in the bulkhead until it ends. */
    void holdSlot(String slot) {
        bulkheadSlot = slot;
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
        if (bulkheadSlot != null) {
            services.bulkhead().release(bulkheadSlot);
            bulkheadSlot = null;
        }
        if (responseStatus != 0) {
            services.metrics().response(responseStatus);
        }
        services.drain().ended();
        attempts.abandon();
        cancelTimer();
        body.releaseHeld();
        if (upstream != null) {
            attempts.pool().release(upstream, reusable);
            upstream = null;
        }
        return true;
    }

    private void armResponseTimer() {
        connection.responseTimeout().arm(responseTimeout);
    }

    private void cancelTimer() {
        connection.responseTimeout().cancel(responseTimeout);
    }
}
