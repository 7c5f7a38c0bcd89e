package dev.trafficmanager.proxy.routing;

/**
 * Makes a request's path safe to append to a route's base path, so a request can never climb out of
 * the route (RFC 3986 section 5.2.4; Envoy's {@code normalize_path} and a leading-slash
 * {@code merge_slashes} are the reference):
 * <ul>
 *   <li>dot segments are resolved, also when percent-encoded ({@code %2e}, {@code .%2E}, ...);</li>
 *   <li>a {@code ..} that would climb above the path's root, an encoded slash or backslash
 *       ({@code %2f}, {@code %5c}) and a raw backslash are refused: an upstream or a proxy in front
 *       of it may decode them into separators;</li>
 *   <li>a leading {@code //} becomes {@code /}, so no upstream reads a scheme-relative authority;</li>
 *   <li>every other byte of the path, and the whole query, pass verbatim.</li>
 * </ul>
 * Stateless; a path with nothing to resolve (the common case) is returned as is, without allocating.
 */
final class RequestPath {
    /** Why a path was refused; the message is for the client. */
    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    private RequestPath() {
    }

    /** {@code originForm} ({@code /path?query}) made safe, or {@link Invalid} saying why not. */
    static String normalize(String originForm) throws Invalid {
        int queryAt = originForm.indexOf('?');
        int pathEnd = queryAt < 0 ? originForm.length() : queryAt;
        if (!needsWork(originForm, pathEnd)) {
            return originForm;
        }
        String path = originForm.substring(0, pathEnd);
        String resolved = resolve(path);
        int slashes = 0;
        while (slashes < resolved.length() && resolved.charAt(slashes) == '/') {
            slashes++;
        }
        if (slashes > 1) {
            resolved = resolved.substring(slashes - 1);
        }
        return queryAt < 0 ? resolved : resolved + originForm.substring(queryAt);
    }

    /**
     * Whether the path holds anything to check: a segment starting with a dot, an encoded dot,
     * slash or backslash ({@code %2e}, {@code %2f}, {@code %5c}), a backslash, or a leading
     * {@code //}. Other escapes ({@code %20}) pass untouched. Refusals are thrown by {@link #resolve}.
     */
    private static boolean needsWork(String s, int end) {
        if (end > 1 && s.charAt(0) == '/' && s.charAt(1) == '/') {
            return true;
        }
        for (int i = 0; i < end; i++) {
            char c = s.charAt(i);
            if (c == '\\' || c == '.' && i > 0 && s.charAt(i - 1) == '/'
                    || c == '%' && (s.regionMatches(true, i, "%2e", 0, 3) || s.regionMatches(true, i, "%2f", 0, 3)
                    || s.regionMatches(true, i, "%5c", 0, 3))) {
                return true;
            }
        }
        return false;
    }

    private static String resolve(String path) throws Invalid {
        if (path.isEmpty() || path.charAt(0) != '/') {
            throw new Invalid("path " + JsonText.quote(RequestTarget.shorten(path)) + " does not start with /");
        }
        StringBuilder out = new StringBuilder(path.length());
        int start = 1;
        while (start <= path.length()) {
            int end = path.indexOf('/', start);
            if (end < 0) {
                end = path.length();
            }
            String segment = path.substring(start, end);
            checkSeparators(segment, path);
            boolean last = end == path.length();
            switch (dots(segment)) {
                case 1 -> {
                    if (last) {
                        out.append('/'); // "/a/." is "/a/"
                    }
                }
                case 2 -> {
                    int cut = out.lastIndexOf("/");
                    if (cut < 0) {
                        throw new Invalid("path " + JsonText.quote(RequestTarget.shorten(path))
                                + " climbs above its root with '..' (expected: a path that stays inside the route)");
                    }
                    out.setLength(cut);
                    if (last) {
                        out.append('/');
                    }
                }
                default -> out.append('/').append(segment);
            }
            start = end + 1;
        }
        return out.length() == 0 ? "/" : out.toString();
    }

    /** 1 for a "." segment, 2 for "..", 0 otherwise; {@code %2e} counts as a dot. */
    private static int dots(String segment) {
        int dots = 0;
        int i = 0;
        while (i < segment.length()) {
            if (segment.charAt(i) == '.') {
                i++;
            } else if (segment.regionMatches(true, i, "%2e", 0, 3)) {
                i += 3;
            } else {
                return 0;
            }
            if (++dots > 2) {
                return 0;
            }
        }
        return dots;
    }

    private static void checkSeparators(String segment, String path) throws Invalid {
        if (segment.indexOf('\\') >= 0) {
            throw new Invalid("path " + JsonText.quote(RequestTarget.shorten(path))
                    + " has a backslash (expected: / between segments; some servers read \\ as one)");
        }
        for (int i = segment.indexOf('%'); i >= 0; i = segment.indexOf('%', i + 1)) {
            if (segment.regionMatches(true, i, "%2f", 0, 3) || segment.regionMatches(true, i, "%5c", 0, 3)) {
                throw new Invalid("path " + JsonText.quote(RequestTarget.shorten(path)) + " has an encoded "
                        + (segment.charAt(i + 2) == 'f' || segment.charAt(i + 2) == 'F' ? "slash (%2F)" : "backslash (%5C)")
                        + " (expected: / between segments, no separators encoded inside one)");
            }
        }
    }
}
