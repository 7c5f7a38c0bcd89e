package dev.trafficmanager.proxy.routing;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

/**
 * An HTTP/1.1 upgrade (RFC 9110 section 7.8) that is forwarded: {@code Upgrade} and {@code Connection:
 * upgrade} are hop-by-hop, so they are removed like any other and put back for the upstream, and
 * on its 101 for the client. {@code h2c} is never forwarded: the sidecar serves such a request as
 * HTTP/1.1, as it always has (an HTTP/2 client uses prior knowledge instead).
 */
final class Upgrade {
    private Upgrade() {
    }

    /**
     * The protocols a request asks to upgrade to, when they are to be forwarded: an HTTP/1.1 request
     * whose Connection header names {@code upgrade}, with an Upgrade header other than {@code h2c}; else null.
     */
    static String requested(HttpRequest request) {
        HttpHeaders headers = request.headers();
        String upgrade = headers.get(HttpHeaderNames.UPGRADE);
        if (upgrade == null || upgrade.isBlank() || !request.protocolVersion().equals(HttpVersion.HTTP_1_1)
                || !headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)) {
            return null;
        }
        for (String token : upgrade.split(",")) {
            if (token.trim().equalsIgnoreCase("h2c")) {
                return null;
            }
        }
        return upgrade;
    }

    /** Puts the upgrade back on a message whose hop-by-hop headers were removed. */
    static void restore(HttpMessage message, String upgrade) {
        message.headers().set(HttpHeaderNames.UPGRADE, upgrade).set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    }
}
