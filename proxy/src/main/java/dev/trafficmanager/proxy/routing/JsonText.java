package dev.trafficmanager.proxy.routing;

import java.util.HexFormat;

/** Quotes text as a JSON string; the sidecar's few JSON bodies (and the access log's lines) are built by hand. */
public final class JsonText {
    private static final HexFormat HEX = HexFormat.of();

    private JsonText() {
    }

    public static String quote(CharSequence text) {
        return append(new StringBuilder(text.length() + 2), text).toString();
    }

    /** Appends {@code text} quoted, non-ASCII and control characters escaped; returns {@code out}. */
    public static StringBuilder append(StringBuilder out, CharSequence text) {
        int length = text.length();
        int plain = 0;
        while (plain < length && printable(text.charAt(plain))) {
            plain++;
        }
        out.append('"').append(text, 0, plain); // most values: nothing to escape, one copy
        for (int i = plain; i < length; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        out.append("\\u").append(HEX.toHexDigits(c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"');
    }

    private static boolean printable(char c) {
        return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
    }
}
