package dev.trafficmanager.controlapi.routes;

import dev.trafficmanager.controlapi.http.ApiException;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Set;

/**
 * The optional SSRF guard for upstream URLs ({@code TM_API_UPSTREAM_GUARD=on}): a tenant may not
 * point its routes, and so the sidecars' traffic, at hosts that are or resolve to loopback,
 * link-local (the cloud metadata endpoint 169.254.169.254 among them), unspecified or IPv6
 * unique-local addresses (AWS's fd00:ec2::254), nor at the cloud metadata names, unless the host is
 * in {@code TM_API_UPSTREAM_ALLOW}. A name that does not resolve here passes: the sidecars resolve
 * upstreams in their own network. Resolving blocks: call from a worker thread. Immutable.
 */
public final class UpstreamGuard {
    /** The guard off: every valid URL passes. */
    public static final UpstreamGuard OFF = new UpstreamGuard(null);

    private static final Set<String> METADATA_NAMES = Set.of("metadata.google.internal", "metadata",
            "instance-data", "instance-data.ec2.internal", "metadata.azure.com");

    private final Set<String> allowed; // null: the guard is off

    public UpstreamGuard(Set<String> allowed) {
        this.allowed = allowed == null ? null : Set.copyOf(allowed);
    }

    public boolean on() {
        return allowed != null;
    }

    /** Throws 400 invalid_url when the guard is on and the URL's host is not allowed. */
    void check(String url) {
        if (allowed == null) {
            return;
        }
        String host = URI.create(url).getHost().toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (allowed.contains(host)) {
            return;
        }
        if (METADATA_NAMES.contains(host)) {
            throw refused(host, "a cloud metadata name");
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            return;
        }
        for (InetAddress address : addresses) {
            String kind = blocked(address);
            if (kind != null) {
                throw refused(host, address.getHostAddress().equals(host) ? kind : "resolves to " + address.getHostAddress() + ", " + kind);
            }
        }
    }

    /** What is wrong with {@code address} for an upstream, or null. */
    static String blocked(InetAddress address) {
        if (address.isLoopbackAddress()) {
            return "a loopback address";
        }
        if (address.isLinkLocalAddress()) {
            return "a link-local address (cloud metadata lives there)";
        }
        if (address.isAnyLocalAddress()) {
            return "the unspecified address";
        }
        if (address instanceof Inet6Address && (address.getAddress()[0] & 0xfe) == 0xfc) {
            return "an IPv6 unique-local address";
        }
        return null;
    }

    private static ApiException refused(String host, String why) {
        return new ApiException(HttpResponseStatus.BAD_REQUEST, "invalid_url", "upstream host " + host + " is " + why
                + " (refused by TM_API_UPSTREAM_GUARD=on; list it in TM_API_UPSTREAM_ALLOW to allow it)");
    }
}
