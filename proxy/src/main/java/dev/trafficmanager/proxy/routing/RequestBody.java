package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.http.HttpRefusal;
import dev.trafficmanager.proxy.ProxyConfig;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * A request's body as it arrives from the client: the parts waiting for an upstream connection
 * (owned here and released if the exchange ends first), the bytes counted against the limit,
 * whether it is complete, and whether a byte of it went upstream (then the request is never
 * tried again). Confined to the exchange's event loop.
 */
final class RequestBody {
    private final ArrayDeque<HttpContent> waiting = new ArrayDeque<>();
    private final boolean bodiless;
    private long bytes;
    private boolean complete;
    private boolean sent;

    RequestBody(HttpRequest request) {
        this.bodiless = !HttpUtil.isTransferEncodingChunked(request) && HttpUtil.getContentLength(request, 0L) == 0;
    }

    /** Takes a part the decoder handed over: null when it may go on, else the refusal (the part is released). */
    HttpRefusal accept(HttpContent content, ProxyConfig.ClientLimits limits) {
        if (content.decoderResult().isFailure()) {
            // The decoder drops everything after a broken body: the connection can only close.
            ReferenceCountUtil.release(content);
            // Always 400: a chunk line too long is a broken body, not a long URI.
            return HttpRefusal.badRequest("malformed request body: " + content.decoderResult().cause());
        }
        bytes += content.content().readableBytes();
        if (limits.bodyTooLarge(bytes)) {
            // A chunked body past the limit: nothing more goes upstream.
            ReferenceCountUtil.release(content);
            return HttpRefusal.bodyTooLarge("request body over " + limits.maxBodyBytes() + " bytes (TM_PROXY_MAX_BODY_BYTES)");
        }
        if (content instanceof LastHttpContent) {
            complete = true;
        }
        return null;
    }

    /** Keeps a part until the upstream connection is there. */
    void hold(HttpContent part) {
        waiting.add(part);
    }

    /** The next part held, or null; the caller owns it. */
    HttpContent next() {
        return waiting.poll();
    }

    boolean nothingHeld() {
        return waiting.isEmpty();
    }

    /** A part is on its way upstream; returns whether it carries bytes (progress). */
    boolean sending(HttpContent part) {
        boolean progress = part.content().isReadable();
        sent |= progress;
        return progress;
    }

    boolean sent() {
        return sent;
    }

    /** The body's bytes received so far. */
    long bytes() {
        return bytes;
    }

    boolean complete() {
        return complete;
    }

    /** Whether body bytes of the request may still be on the wire, unread. */
    boolean unread() {
        return !complete && !bodiless;
    }

    void releaseHeld() {
        HttpContent part;
        while ((part = waiting.poll()) != null) {
            ReferenceCountUtil.release(part);
        }
    }
}
