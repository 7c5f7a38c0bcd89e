package dev.trafficmanager.proxy.routing;

import java.util.Locale;

/**
 * The host and port a request is for (RFC 9110 section 7.2): from an absolute-form target, the
 * authority-form target of a CONNECT, or the Host header. The host is a name, an IPv4 address or a
 * bracketed IPv6 address, lower-cased; the port is optional unless asked for. Stricter than RFC
 * 3986's reg-name on purpose: a name is letters, digits, '-', '_' and dots between non-empty
 * labels (with one trailing dot allowed), as DNS names are, so nothing odd reaches a resolver or an
 * upstream's Host header. Immutable.
 *
 * @param host   lower case; an IPv6 address keeps its brackets
 * @param port   the port given, or -1
 */
record Authority(String host, int port) {
    static final String EXPECTED = "a host name, an IPv4 address or an [IPv6] address, with an optional :port";
    private static final int MAX_HOST_LENGTH = 255;

    /**
     * Why {@code text} is not a valid authority, or null when it is one; {@code portRequired} for
     * a CONNECT target. Allocates nothing for a valid authority.
     */
    static String problem(CharSequence text, boolean portRequired) {
        int n = text.length();
        if (n == 0) {
            return "empty";
        }
        int hostEnd = text.charAt(0) == '[' ? ipv6End(text) : nameEnd(text);
        if (hostEnd <= 0) {
            return "not " + EXPECTED;
        }
        if (hostEnd > MAX_HOST_LENGTH) {
            return "host longer than " + MAX_HOST_LENGTH + " characters";
        }
        if (hostEnd == n) {
            return portRequired ? "no port (expected: host:port)" : null;
        }
        if (text.charAt(hostEnd) != ':') {
            return "not " + EXPECTED;
        }
        return portOf(text, hostEnd + 1) < 0 ? "invalid port (expected: 1 to 65535)" : null;
    }

    /** Parses an authority that {@link #problem} found valid. */
    static Authority parse(CharSequence text) {
        String s = text.toString();
        int hostEnd = s.charAt(0) == '[' ? ipv6End(s) : nameEnd(s);
        String host = s.substring(0, hostEnd).toLowerCase(Locale.ROOT);
        return new Authority(host, hostEnd == s.length() ? -1 : portOf(s, hostEnd + 1));
    }

    /** The port given, or {@code fallback} (the scheme's). */
    int portOr(int fallback) {
        return port < 0 ? fallback : port;
    }

    boolean ipLiteral() {
        if (host.charAt(0) == '[') {
            return true;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (!(c >= '0' && c <= '9' || c == '.')) {
                return false;
            }
        }
        return true; // a name of digits and dots only is an address (inet_aton reads 10.1 as one)
    }

    /** Whether this names the local host: loopback or unspecified addresses, or localhost. */
    boolean local() {
        return host.equals("localhost") || host.equals("localhost.") || host.startsWith("127.") && ipLiteral()
                || host.equals("0.0.0.0") || host.equals("[::1]") || host.equals("[::]")
                || host.equals("[0:0:0:0:0:0:0:1]") || host.equals("[::ffff:127.0.0.1]");
    }

    @Override
    public String toString() {
        return port < 0 ? host : host + ':' + port;
    }

    /** The end of a host name (letters, digits, '-', '_', dots between labels); 0 if there is none. */
    private static int nameEnd(CharSequence text) {
        int i = 0;
        int n = text.length();
        boolean labelStart = true;
        while (i < n) {
            char c = text.charAt(i);
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
                labelStart = false;
            } else if (c == '.') {
                if (labelStart) {
                    return 0; // an empty label: ".x", "x..y"
                }
                labelStart = true;
            } else {
                break;
            }
            i++;
        }
        return i;
    }

    /** The index after the ']' of a bracketed IPv6 address; 0 if it is not one. */
    private static int ipv6End(CharSequence text) {
        int colons = 0;
        for (int i = 1; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == ']') {
                return colons >= 2 && i > 2 ? i + 1 : 0;
            }
            if (c == ':') {
                colons++;
            } else if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.')) {
                return 0; // zone identifiers and IPvFuture are refused
            }
        }
        return 0;
    }

    /** The port in {@code text} from {@code start} to its end: 1 to 65535, else -1. */
    private static int portOf(CharSequence text, int start) {
        int n = text.length();
        if (start >= n || n - start > 5) {
            return -1;
        }
        int port = 0;
        for (int i = start; i < n; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            port = port * 10 + (c - '0');
        }
        return port >= 1 && port <= 65535 ? port : -1;
    }
}
