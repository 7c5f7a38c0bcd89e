package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.http.HttpRefusal;
import dev.trafficmanager.proxy.ProxyConfig;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;

/** What a request head may carry through the proxy port: checked before it is routed. */
final class RequestLimits {
    private RequestLimits() {
    }

    /** Fills {@code out} with the refusal of a request over {@code limits}; false when it is within them. */
    static boolean refused(HttpRequest request, ProxyConfig.ClientLimits limits, Destination out) {
        if (request.headers().size() > limits.maxHeaders()) {
            out.refuse(HttpRefusal.headersTooLarge(request.headers().size()
                    + " header fields (expected: at most " + limits.maxHeaders() + ", TM_PROXY_MAX_HEADERS)"));
            return true;
        }
        long contentLength = HttpUtil.getContentLength(request, 0L);
        if (limits.bodyTooLarge(contentLength)) {
            out.refuse(HttpRefusal.bodyTooLarge("Content-Length "
                    + contentLength + " (expected: at most " + limits.maxBodyBytes() + ", TM_PROXY_MAX_BODY_BYTES)"));
            return true;
        }
        String transferEncoding = Forwarding.unsupportedTransferEncoding(request.headers());
        if (transferEncoding != null) {
            // Only chunked is understood (RFC 9112 6.1: 501); forwarding gzip, chunked re-framed would
            // hand the upstream a body it cannot read. The body is not read: the connection closes.
            out.refuse(HttpResponseStatus.NOT_IMPLEMENTED, "unsupported_transfer_encoding",
                    "Transfer-Encoding " + JsonText.quote(transferEncoding) + " (expected: chunked alone)");
            return true;
        }
        return false;
    }
}
