package dev.trafficmanager.route;

/**
 * The naming rule for tenants, services, environments and versions: 1 to 63 characters of
 * {@code [a-z0-9]}, where {@code -}, {@code .} and {@code _} may appear inside a name but not at
 * either end and never two in a row (so {@code ..} and look-alikes of path segments are refused).
 */
public final class Names {
    public static final int MAX_LENGTH = 63;
    public static final String RULE =
            "1-63 chars of [a-z0-9], with '-', '.' or '_' only between two of them";

    private Names() {
    }

    public static boolean isValid(CharSequence name) {
        int length = name == null ? 0 : name.length();
        if (length == 0 || length > MAX_LENGTH) {
            return false;
        }
        boolean previousWasSeparator = true; // a name may not start with a separator
        for (int i = 0; i < length; i++) {
            char c = name.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
                previousWasSeparator = false;
            } else if (c == '-' || c == '.' || c == '_') {
                if (previousWasSeparator) {
                    return false;
                }
                previousWasSeparator = true;
            } else {
                return false;
            }
        }
        return !previousWasSeparator;
    }

    /** Returns {@code name} if valid; otherwise throws with a message naming the field. */
    public static String require(String field, String name) {
        if (!isValid(name)) {
            throw new InvalidRouteException("invalid_name",
                    field + ": " + quote(name) + " (expected: " + RULE + ")");
        }
        return name;
    }

    static String quote(String value) {
        if (value == null) {
            return "null";
        }
        String shown = value.length() > 80 ? value.substring(0, 80) + "..." : value;
        return '"' + shown + '"';
    }
}
