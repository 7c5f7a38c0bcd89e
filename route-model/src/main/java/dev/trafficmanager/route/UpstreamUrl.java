package dev.trafficmanager.route;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * Validates upstream URLs: absolute {@code http} or {@code https}, printable ASCII only (an
 * international host name must be given in its punycode form), a host, no user info, no fragment,
 * at most {@value #MAX_LENGTH} characters. A query is refused too: the sidecar appends the client's
 * own path and query to the URL, and a fixed query would make that ambiguous.
 */
public final class UpstreamUrl {
    public static final int MAX_LENGTH = 2048;

    private UpstreamUrl() {
    }

    /** Returns the URL unchanged if valid; otherwise throws {@code invalid_url} saying why. */
    public static String require(String url) {
        parse(url);
        return url;
    }

    /**
     * The URL parsed, if valid; otherwise throws {@code invalid_url} saying why. Readers of cached
     * routes (the sidecar's tiers) parse with it, so a URL from a cache obeys the same rules as
     * one the control API accepted.
     */
    public static URI parse(String url) {
        String problem = lexicalProblem(url);
        URI uri = null;
        if (problem == null) {
            try {
                uri = new URI(url);
                problem = problem(uri);
            } catch (URISyntaxException e) {
                problem = "a well-formed URL: " + e.getReason();
            }
        }
        if (problem != null) {
            throw new InvalidRouteException("invalid_url",
                    "url: " + Names.quote(url) + " (expected: " + problem + ")");
        }
        return uri;
    }

    private static String lexicalProblem(String url) {
        if (url == null || url.isEmpty()) {
            return "an absolute http or https URL";
        }
        if (url.length() > MAX_LENGTH) {
            return "at most " + MAX_LENGTH + " characters";
        }
        for (int i = 0; i < url.length(); i++) {
            char c = url.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                return "printable ASCII without spaces; give international host names in punycode";
            }
        }
        return null;
    }

    private static String problem(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return "scheme http or https";
        }
        if (uri.getRawUserInfo() != null || uri.getRawAuthority() != null && uri.getRawAuthority().contains("@")) {
            return "no user info (credentials do not belong in a route)";
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            return "a host name or IP address";
        }
        if (uri.getRawFragment() != null) {
            return "no fragment";
        }
        if (uri.getRawQuery() != null) {
            return "no query: the client's path and query are appended to the URL";
        }
        if (uri.getPort() == 0 || uri.getPort() > 65535) {
            return "a port from 1 to 65535";
        }
        return null;
    }
}
