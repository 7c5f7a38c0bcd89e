package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import java.util.Iterator;
import java.util.List;

/**
 * How a request and its response change on the way through (RFC 9110 section 7.6): hop-by-hop
 * headers are removed, including those the Connection header names, the body keeps its framing
 * (and a response its transfer codings), and the request gains the upstream's Host, the
 * X-Forwarded headers and this sidecar's Via entry.
 */
final class Forwarding {
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
    private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
    private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
    private static final AsciiString HTTP = AsciiString.cached("http");
    /** What Netty's HTTP/2-to-HTTP/1.1 translation adds (x-http2-scheme, x-http2-stream-id...): never sent on. */
    private static final AsciiString[] TRANSLATION = {
        HttpConversionUtil.ExtensionHeaderNames.SCHEME.text(), HttpConversionUtil.ExtensionHeaderNames.STREAM_ID.text(),
        HttpConversionUtil.ExtensionHeaderNames.PATH.text(), HttpConversionUtil.ExtensionHeaderNames.STREAM_PROMISE_ID.text(),
        HttpConversionUtil.ExtensionHeaderNames.STREAM_DEPENDENCY_ID.text(), HttpConversionUtil.ExtensionHeaderNames.STREAM_WEIGHT.text(),
    };
    private static final AsciiString[] HOP_BY_HOP = {
        HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE, PROXY_CONNECTION, HttpHeaderNames.PROXY_AUTHENTICATE,
        HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.TE, HttpHeaderNames.TRAILER,
        HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.UPGRADE,
    };

    private Forwarding() {
    }

    /**
     * Rewrites {@code request} in place for {@code target}; {@code forwardedHost} is the authority the
     * client asked for (an absolute-form target's, which wins over its Host header, RFC 9112
     * section 3.2.2), or null; {@code via} is this sidecar's Via entry (RFC 9110 section 7.6.3);
     * {@code upgrade} the {@link Upgrade} forwarded, or null. To an HTTP/2 upstream ({@code h2})
     * {@code TE: trailers} stays: it tells a gRPC server its client takes trailers, which we relay.
     */
    static void prepareRequest(HttpRequest request, String originForm, UpstreamTarget target, String clientIp,
                               String forwardedHost, String via, String upgrade, boolean h2) {
        HttpHeaders headers = request.headers();
        boolean trailers = h2 && headers.containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, true);
        boolean chunked = removeHopByHop(request);
        if (trailers) {
            headers.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        }
        if (upgrade != null) {
            Upgrade.restore(request, upgrade);
        }
        headers.add(HttpHeaderNames.VIA, via); // after any the request carries, and never named by Connection
        if (chunked) {
            headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        if (forwardedHost != null && !headers.contains(X_FORWARDED_HOST)) {
            headers.set(X_FORWARDED_HOST, forwardedHost);
        }
        headers.set(HttpHeaderNames.HOST, target.hostHeader());
        String forwardedFor = headers.get(X_FORWARDED_FOR);
        headers.set(X_FORWARDED_FOR, forwardedFor == null ? clientIp : forwardedFor + ", " + clientIp);
        if (!headers.contains(X_FORWARDED_PROTO)) {
            headers.set(X_FORWARDED_PROTO, HTTP);
        }
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
        request.setUri(target.requestUri(originForm));
    }

    /** Points a prepared request at another endpoint of its route: its Host and target (the path is the same). */
    static void retarget(HttpRequest request, String originForm, UpstreamTarget target) {
        request.headers().set(HttpHeaderNames.HOST, target.hostHeader());
        request.setUri(target.requestUri(originForm));
    }

    /**
     * Rewrites {@code response} in place for the client. A body without a length (the upstream
     * closes the connection to end it) is re-framed as chunked for an HTTP/1.1 client; an HTTP/1.0
     * client gets it close-delimited, so {@code keepAlive} must then be false.
     */
    static void prepareResponse(HttpResponse response, HttpVersion clientVersion, boolean keepAlive, boolean bodyless) {
        String codings = transferCodings(response.headers());
        boolean chunked = removeHopByHop(response);
        boolean http11 = clientVersion.equals(HttpVersion.HTTP_1_1);
        if (codings != null && http11) {
            // The body keeps its coding (gzip...): only the chunked framing is ours (RFC 9112 section 6.1).
            response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, codings + ", chunked");
        } else if (!bodyless && http11 && (chunked || !HttpUtil.isContentLengthSet(response))) {
            response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        response.setProtocolVersion(clientVersion);
        if (http11 && !keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (!http11 && keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
    }

    /**
     * Why an upstream response cannot be forwarded to a client of {@code clientVersion}, or null:
     * a 101 nobody asked for (Upgrade is hop-by-hop and never forwarded), or a transfer coding
     * other than chunked ({@code gzip, chunked}) for an HTTP/1.0 client, which knows none.
     */
    static String unforwardable(HttpResponse response, HttpVersion clientVersion, boolean upgradeAsked) {
        if (response.status().code() == 101 && !upgradeAsked) {
            return "switched protocols unasked";
        }
        if (clientVersion.equals(HttpVersion.HTTP_1_1)) {
            return null;
        }
        String codings = transferCodings(response.headers());
        return codings == null ? null : "answered with Transfer-Encoding " + codings
                + ", which an HTTP/1.0 client cannot decode (expected: a body without transfer codings)";
    }

    /**
     * The message's transfer codings other than chunked ({@code gzip}), or null for none. A plain
     * {@code chunked} response, the common case, is seen without splitting anything.
     */
    static String transferCodings(HttpHeaders headers) {
        if (!headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            return null;
        }
        StringBuilder codings = null;
        for (Iterator<String> values = headers.valueStringIterator(HttpHeaderNames.TRANSFER_ENCODING); values.hasNext(); ) {
            String value = values.next();
            if (HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(value)) {
                continue;
            }
            for (String token : value.split(",")) {
                String coding = token.trim();
                if (!coding.isEmpty() && !coding.equalsIgnoreCase("chunked")) {
                    codings = codings == null ? new StringBuilder(coding) : codings.append(", ").append(coding);
                }
            }
        }
        return codings == null ? null : codings.toString();
    }

    /**
     * Whether the client's connection may go on after this response, as far as its framing goes: an
     * HTTP/1.0 client learns an unframed body's end from the close ({@link #framedForHttp10}).
     */
    static boolean keepsAlive(HttpResponse response, HttpVersion clientVersion, boolean bodyless) {
        return clientVersion.equals(HttpVersion.HTTP_1_1) || framedForHttp10(response, bodyless);
    }

    /** An informational response (100 Continue, 103) whole: over HTTP/2 a 1xx is one HEADERS frame, never a head and a body. */
    static FullHttpResponse whole(HttpResponse informational) {
        return informational instanceof FullHttpResponse full ? full : new DefaultFullHttpResponse(informational.protocolVersion(),
                informational.status(), Unpooled.EMPTY_BUFFER, informational.headers(), EmptyHttpHeaders.INSTANCE);
    }

    /** Whether an HTTP/1.0 client can keep the connection for this response: only with a length. */
    static boolean framedForHttp10(HttpResponse response, boolean bodyless) {
        return bodyless || HttpUtil.isContentLengthSet(response) && !HttpUtil.isTransferEncodingChunked(response);
    }

    /** Removes hop-by-hop headers; returns whether the message was chunked. */
    private static boolean removeHopByHop(HttpMessage message) {
        HttpHeaders headers = message.headers();
        boolean chunked = HttpUtil.isTransferEncodingChunked(message);
        for (String connection : headers.contains(HttpHeaderNames.CONNECTION)
                ? headers.getAll(HttpHeaderNames.CONNECTION) : java.util.List.<String>of()) {
            for (String token : connection.split(",")) {
                String name = token.trim();
                // Framing and Host are never hop-by-hop: a Connection header naming them would
                // let a client strip the body's length and smuggle a second request upstream.
                if (!name.isEmpty() && !name.equalsIgnoreCase("content-length")
                        && !name.equalsIgnoreCase("transfer-encoding") && !name.equalsIgnoreCase("host")) {
                    headers.remove(name);
                }
            }
        }
        for (AsciiString name : HOP_BY_HOP) {
            headers.remove(name);
        }
        if (headers.contains(TRANSLATION[1])) { // the stream id: only a message translated from HTTP/2 has them
            for (AsciiString name : TRANSLATION) {
                headers.remove(name);
            }
        }
        return chunked;
    }

    /** The request's Transfer-Encoding when it is anything but {@code chunked} alone, else null. */
    static String unsupportedTransferEncoding(HttpHeaders headers) {
        if (!headers.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            return null; // most requests: no list allocated
        }
        List<String> codings = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        if (codings.size() == 1 && codings.get(0).trim().equalsIgnoreCase("chunked")) {
            return null;
        }
        return String.join(", ", codings);
    }
}
