package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.lookup.Resolver;
import dev.trafficmanager.proxy.lookup.RouteEntry;
import dev.trafficmanager.proxy.resilience.RetryPolicy;
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
import java.util.ArrayDeque;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One request through the sidecar: resolve the route, borrow an upstream connection, stream the
 * request body up and the response body down with backpressure (each side reads again only when
 * its last write succeeded), then return the connection to the pool.
 *
 * <p>Every method runs on the client connection's event loop (the upstream connection lives on the
 * same one), so no state needs synchronising. Body parts queued here are owned by this exchange and
 * released if it ends before writing them.
 *
 * <p>Each use of an upstream asks its circuit breaker first (an open one answers 503
 * {@code upstream_circuit_open} at once) and tells it how the upstream answered. An idempotent
 * request that never reached the upstream (its connection was refused or timed out) is tried again
 * after a backoff, within the {@link RetryPolicy}'s budget; a pooled connection the upstream closed
 * just as it was reused is replaced at once.
 */
final class Exchange implements ResponseListener {
    private final ProxyHandler connection;
    private final ChannelHandlerContext ctx;
    private final ProxyServices services;
    private final HttpRequest request;
    private final String originForm;
    private final String forwardedHost;
    private final boolean clientKeepAlive;
    private final boolean bodiless;
    private final ArrayDeque<HttpContent> body = new ArrayDeque<>();

    private UpstreamTarget target;
    private UpstreamPool pool;
    private Channel upstream;
    private boolean reused;
    private boolean retried; // the keep-alive race, at most once
    private int retries; // after connections that failed, within the retry policy
    private boolean breakerHeld; // the breaker let this exchange through and awaits its outcome
    private boolean headWriteFailed;
    private boolean requestComplete;
    private boolean bodyBytesSent;
    private boolean responseStarted;
    private boolean upstreamKeepAlive;
    private int status;
    private long sentAtNanos;
    private Runnable responseTimeout; // created on first use, then re-armed
    private long bodyBytes;
    private String bulkheadSlot; // the tenant's slot in the bulkhead, while held
    private boolean done;

    Exchange(ProxyHandler connection, ChannelHandlerContext ctx, ProxyServices services, HttpRequest request,
             String originForm, String forwardedHost) {
        this.connection = connection;
        this.ctx = ctx;
        this.services = services;
        this.request = request;
        this.originForm = originForm;
        this.forwardedHost = forwardedHost;
        this.clientKeepAlive = HttpUtil.isKeepAlive(request);
        this.bodiless = !HttpUtil.isTransferEncodingChunked(request) && HttpUtil.getContentLength(request, 0L) == 0;
        services.drain().started();
    }

    /** A message from the client while this exchange runs: its body, or the next request's start. */
    void fromClient(Object msg) {
        if (done || requestComplete || !(msg instanceof HttpContent content)) {
            connection.queue(msg);
            return;
        }
        if (content.decoderResult().isFailure()) {
            // The decoder drops everything after a broken body: the connection can only close
            // (requestComplete stays false, so the error says Connection: close and lingers).
            ReferenceCountUtil.release(content);
            connection.setKeepAlive(false);
            if (!responseStarted) {
                fail(HttpResponseStatus.BAD_REQUEST, "bad_request", "malformed request body: " + content.decoderResult().cause());
            } else {
                abort();
            }
            return;
        }
        bodyBytes += content.content().readableBytes();
        if (services.client().bodyTooLarge(bodyBytes)) {
            // A chunked body past the limit: nothing more goes upstream; the connection closes.
            ReferenceCountUtil.release(content);
            connection.setKeepAlive(false);
            if (!responseStarted) {
                fail(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "body_too_large", "request body over "
                        + services.client().maxBodyBytes() + " bytes (TM_PROXY_MAX_BODY_BYTES)");
            } else {
                abort();
            }
            return;
        }
        if (content instanceof LastHttpContent) {
            requestComplete = true;
        }
        if (upstream != null) {
            writeBody(content, true);
        } else {
            body.add(content);
        }
    }

    /** The route is known: answer 404 for an inactive or unknown one, else forward. */
    void route(RouteEntry entry) {
        if (done) {
            return;
        }
        if (!entry.active()) {
            fail(HttpResponseStatus.NOT_FOUND, "route_not_found", "no active route for " + entry.key());
            return;
        }
        forward(entry.target());
    }

    /** Forwards to {@code upstream}: a route's, or an outside host passed through. */
    void forward(UpstreamTarget upstream) {
        if (done) {
            return;
        }
        target = upstream;
        Forwarding.prepareRequest(request, originForm, target, connection.clientIp(), forwardedHost,
                services.router().via(request.protocolVersion()));
        pool = services.pools().pool(ctx.channel().eventLoop(), target);
        useUpstream();
    }

    private void useUpstream() {
        if (!pool.admit()) {
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "upstream_circuit_open", "upstream " + target
                    + " has been failing: its circuit breaker is open; try again shortly");
            return;
        }
        breakerHeld = true;
        pool.acquire(this);
    }

    /** A lookup finished on another thread and hopped back here. */
    void resolved(Resolver.Resolution resolution, Throwable error) {
        if (done) {
            return;
        }
        if (error != null) {
            fail(HttpResponseStatus.SERVICE_UNAVAILABLE, "route_lookup_unavailable",
                    "the route could not be looked up: no cache tier holds it and Redis and PostgreSQL did not answer in time");
            return;
        }
        route(resolution.entry());
    }

    @Override
    public void upstreamConnected(Channel channel, boolean fromPool) {
        if (done) {
            pool.release(channel, true);
            return;
        }
        upstream = channel;
        reused = fromPool;
        sentAtNanos = System.nanoTime();
        channel.write(request).addListener(f -> {
            if (!f.isSuccess()) {
                headWriteFailed = true;
                channel.close();
            }
        });
        if (retried && requestComplete && body.isEmpty()) {
            // Only empty body parts were sent on the failed connection: the end of the body again.
            channel.write(LastHttpContent.EMPTY_LAST_CONTENT);
        }
        HttpContent part;
        while ((part = body.poll()) != null) {
            writeBody(part, false);
        }
        channel.flush();
        if (!requestComplete) {
            ctx.read();
        }
        armResponseTimer();
        channel.read();
    }

    @Override
    public void upstreamConnectFailed(Throwable cause) {
        if (done) {
            return;
        }
        if (cause instanceof UpstreamPool.Exhausted) {
            abandonBreaker(); // our own limit, not the upstream's failure: neither counted nor retried
        } else {
            upstreamAnswered(false);
            if (retryLater()) {
                return;
            }
        }
        fail(HttpResponseStatus.BAD_GATEWAY, "upstream_unreachable", "cannot connect to " + target + ": " + describe(cause)
                + (retries > 0 ? " (tried " + (retries + 1) + " times)" : ""));
    }

    /**
     * Schedules another attempt if the request is idempotent, never reached the upstream, and the
     * retry policy has a retry left and room in its budget.
     */
    private boolean retryLater() {
        RetryPolicy policy = services.upstream().retry();
        if (bodyBytesSent || !isIdempotent(request.method()) || !policy.tryStart(retries + 1, services.drain()::inFlight)) {
            return false;
        }
        retries++;
        services.metrics().upstreamRetries().increment();
        long backoff = policy.backoffNanos(retries, ThreadLocalRandom.current());
        ctx.executor().schedule(() -> {
            policy.finished();
            if (!done) {
                useUpstream();
            }
        }, backoff, TimeUnit.NANOSECONDS);
        return true;
    }

    private void writeBody(HttpContent content, boolean flush) {
        boolean progress = content.content().isReadable();
        bodyBytesSent |= progress;
        Channel channel = upstream;
        ChannelFuture write = flush ? channel.writeAndFlush(content) : channel.write(content);
        write.addListener(f -> {
            if (!f.isSuccess()) {
                channel.close();
            } else if (!done) {
                // The response timeout counts from the last progress of the request, so a long upload
                // is not cut off while an upstream that stops reading it still is.
                if (progress && !responseStarted) {
                    armResponseTimer();
                }
                if (!requestComplete) {
                    ctx.read();
                }
            }
        });
    }

    @Override
    public void upstreamResponse(HttpObject msg) {
        if (done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg.decoderResult().isFailure()) {
            // Broken framing, an oversized head or garbage: the connection is unusable and what was
            // forwarded cannot be trusted.
            Throwable cause = msg.decoderResult().cause();
            ReferenceCountUtil.release(msg);
            upstreamAnswered(false);
            if (responseStarted) { // both close the upstream connection (cleanUp)
                abort();
            } else {
                fail(HttpResponseStatus.BAD_GATEWAY, "upstream_unreachable",
                        "upstream " + target + " sent an invalid response: " + describe(cause));
            }
            return;
        }
        if (msg instanceof HttpResponse response) {
            startResponse(response);
            if (done) {
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            boolean last = content instanceof LastHttpContent;
            if (!responseStarted) {
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
                        if (!done) {
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
        if (code == 101) {
            // Upgrade headers are hop-by-hop and never forwarded, so an upstream switching protocols is broken.
            ReferenceCountUtil.release(response);
            fail(HttpResponseStatus.BAD_GATEWAY, "upstream_unreachable", "upstream " + target + " switched protocols unasked");
            return;
        }
        boolean bodyless = informational || code == 204 || code == 304 || request.method().equals(HttpMethod.HEAD);
        boolean keepAlive = clientKeepAlive && !services.drain().draining();
        if (!informational) {
            // A gateway error from the upstream is its own failure (or its upstream's): counted.
            upstreamAnswered(code != 502 && code != 503 && code != 504);
            cancelTimer();
            responseStarted = true;
            status = code;
            upstreamKeepAlive = HttpUtil.isKeepAlive(response);
            services.metrics().upstreamLatency(System.nanoTime() - sentAtNanos);
            if (!connection.clientVersion().equals(HttpVersion.HTTP_1_1) && !Forwarding.framedForHttp10(response, bodyless)) {
                keepAlive = false; // an HTTP/1.0 client learns the end of an unframed body from the close
            }
            if (bodyUnread()) {
                keepAlive = false; // answered before the whole body arrived: the rest is not read
            }
            connection.setKeepAlive(keepAlive);
        }
        Forwarding.prepareResponse(response, connection.clientVersion(), informational || keepAlive, bodyless);
        ctx.write(response);
    }

    /** The response's last part is written: pool the upstream connection, go on with the client. */
    private void finish(ChannelFuture lastWrite) {
        end(status);
        pool.release(upstream, upstreamKeepAlive && requestComplete && body.isEmpty());
        upstream = null;
        connection.exchangeEnded(lastWrite, bodyUnread());
    }

    @Override
    public void upstreamClosed(Throwable cause) {
        if (done) {
            return;
        }
        upstream = null;
        if (responseStarted) {
            abort(); // the response is cut: the client must see the truncation, not a clean end
            return;
        }
        cancelTimer();
        boolean idempotent = isIdempotent(request.method());
        if (reused && !retried && !bodyBytesSent && (headWriteFailed || idempotent)) {
            // The keep-alive race: the upstream closed a pooled connection as we reused it.
            retried = true;
            services.metrics().upstreamRetries().increment();
            pool.connect(this);
            return;
        }
        upstreamAnswered(false);
        fail(HttpResponseStatus.BAD_GATEWAY, "upstream_unreachable", "upstream " + target
                + " closed the connection before responding" + (cause == null ? "" : ": " + describe(cause)));
    }

    @Override
    public void upstreamReadComplete() {
        if (!done) {
            ctx.flush(); // a response head alone (server-sent events, long polls) goes out now
        }
    }

    @Override
    public void upstreamIdle() {
        if (!done && responseStarted && upstream != null) {
            upstream.close(); // a stalled response body: upstreamClosed cuts the client off
        }
    }

    private void responseTimedOut() {
        if (!done && !responseStarted) {
            upstreamAnswered(false);
            fail(HttpResponseStatus.GATEWAY_TIMEOUT, "upstream_timeout", "no response from " + target + " within "
                    + services.upstream().responseTimeout().toMillis() + " ms");
        }
    }

    /** The client connection closed: drop everything, never pool a half-used upstream connection. */
    void clientGone() {
        if (!done) {
            end(responseStarted ? status : 0);
            cleanUp();
        }
    }

    /** Answers with an error before any response byte went out (also for requests refused before a lookup). */
    void fail(HttpResponseStatus failure, String code, String message) {
        end(failure.code());
        cleanUp();
        connection.respondError(failure, code, message, clientKeepAlive, bodyUnread());
    }

    /** Ends an exchange whose response already started: close the client connection. */
    private void abort() {
        if (!done) {
            end(status);
        }
        cleanUp();
        connection.close();
    }

    /** The exchange is over: counted once by status (0: no response went out), and no longer in flight. */
    /** The exchange holds one of its tenant's slots in the bulkhead until it ends. */
    void holdSlot(String slot) {
        bulkheadSlot = slot;
    }

    private void end(int responseStatus) {
        done = true;
        if (bulkheadSlot != null) {
            services.bulkhead().release(bulkheadSlot);
            bulkheadSlot = null;
        }
        if (responseStatus != 0) {
            services.metrics().response(responseStatus);
        }
        services.drain().ended();
    }

    /** Whether body bytes of the request may still be on the wire, unread. */
    private boolean bodyUnread() {
        return !requestComplete && !bodiless;
    }

    /** Tells the upstream's breaker how the upstream did, once per admission. */
    private void upstreamAnswered(boolean healthy) {
        if (breakerHeld) {
            breakerHeld = false;
            if (healthy) {
                pool.breaker().onSuccess();
            } else {
                pool.breaker().onFailure();
            }
        }
    }

    private void abandonBreaker() {
        if (breakerHeld) {
            breakerHeld = false;
            pool.breaker().onAbandoned();
        }
    }

    private void cleanUp() {
        abandonBreaker();
        cancelTimer();
        HttpContent part;
        while ((part = body.poll()) != null) {
            ReferenceCountUtil.release(part);
        }
        if (upstream != null) {
            pool.release(upstream, false);
            upstream = null;
        }
    }

    private void armResponseTimer() {
        if (responseTimeout == null) {
            responseTimeout = this::responseTimedOut;
        }
        connection.responseDeadline().arm(services.upstream().responseTimeout().toNanos(), responseTimeout);
    }

    private void cancelTimer() {
        if (responseTimeout != null && connection.responseDeadline().armedFor(responseTimeout)) {
            connection.responseDeadline().disarm();
        }
    }

    private static boolean isIdempotent(HttpMethod method) {
        return method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.OPTIONS)
                || method.equals(HttpMethod.PUT) || method.equals(HttpMethod.DELETE);
    }

    private static String describe(Throwable cause) {
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }
}
