package dev.trafficmanager.proxy.routing;

/**
 * A request's target (RFC 9112 section 3.2): origin form ({@code /path?query}, what an application
 * sends to a server), absolute form ({@code http://host:port/path}, what it sends to a proxy set in
 * {@code HTTP_PROXY}), or, for CONNECT, authority form ({@code host:port}). Immutable.
 *
 * @param originForm what the upstream is sent: the path and query; null for CONNECT
 * @param authority  the absolute or authority form's host and port; null for origin form
 * @param https      the absolute form's scheme was https
 */
record RequestTarget(String originForm, Authority authority, boolean https) {

    /** A target that cannot be used: a 400 with this code and message. */
    static final class Invalid extends Exception {
        final String code;

        Invalid(String code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }

    /** Parses {@code uri}; the common origin form allocates nothing but the result. */
    static RequestTarget parse(String uri, boolean connect) throws Invalid {
        if (connect) {
            String problem = Authority.problem(uri, true);
            if (problem != null) {
                throw new Invalid("invalid_host", "CONNECT target " + JsonText.quote(shorten(uri)) + ": " + problem);
            }
            return new RequestTarget(null, Authority.parse(uri), false);
        }
        if (!uri.isEmpty() && uri.charAt(0) == '/') {
            return new RequestTarget(uri, null, false);
        }
        boolean https = uri.regionMatches(true, 0, "https://", 0, 8);
        if (!https && !uri.regionMatches(true, 0, "http://", 0, 7)) {
            throw new Invalid("bad_request", "request target " + JsonText.quote(shorten(uri))
                    + " (expected: /path or http://host/path)");
        }
        int start = https ? 8 : 7;
        int end = start;
        while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) {
            end++;
        }
        String authority = uri.substring(start, end);
        if (authority.indexOf('@') >= 0) {
            throw new Invalid("invalid_host", "request target " + JsonText.quote(shorten(uri))
                    + ": user info in the authority (expected: http://host[:port]/path)");
        }
        String problem = Authority.problem(authority, false);
        if (problem != null) {
            throw new Invalid("invalid_host", "the authority of request target " + JsonText.quote(shorten(uri)) + ": "
                    + (authority.isEmpty() ? "empty authority (expected: " + Authority.EXPECTED + ")" : problem));
        }
        String rest = uri.substring(end);
        int fragment = rest.indexOf('#');
        if (fragment >= 0) {
            rest = rest.substring(0, fragment); // never sent on (RFC 9110 section 4.2.5)
        }
        String originForm = rest.isEmpty() ? "/" : rest.charAt(0) == '?' ? "/" + rest : rest;
        return new RequestTarget(originForm, Authority.parse(authority), https);
    }

    static String shorten(String value) {
        return value.length() > 200 ? value.substring(0, 200) + "..." : value;
    }
}
