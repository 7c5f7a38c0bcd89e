package dev.trafficmanager.proxy.lookup;

import dev.trafficmanager.route.RouteProtocol;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The bytes of a {@link RouteEntry} in L1 (Chronicle Map) and L2 (Redis): a format byte, flags,
 * revision, fetch time, then the URL in ASCII. The key is not stored: both tiers key by it. The
 * route's protocol is in flag bits 2-3 (0 auto, 1 http1, 2 h2): a reader that predates it ignores
 * them, so the layout and its format byte stay as they were.
 */
public final class EntryCodec {
    private static final byte FORMAT = 1;
    private static final int FLAG_ACTIVE = 1;
    private static final int FLAG_EXISTS = 2;
    private static final int PROTOCOL_SHIFT = 2;
    private static final int HEADER = 1 + 1 + 8 + 8;

    private EntryCodec() {
    }

    public static byte[] encode(RouteEntry entry) {
        byte[] url = entry.exists() ? entry.url().getBytes(StandardCharsets.US_ASCII) : new byte[0];
        ByteBuffer out = ByteBuffer.allocate(HEADER + url.length);
        out.put(FORMAT)
                .put((byte) ((entry.active() ? FLAG_ACTIVE : 0) | (entry.exists() ? FLAG_EXISTS : 0)
                        | entry.protocol().code() << PROTOCOL_SHIFT))
                .putLong(entry.revision())
                .putLong(entry.fetchedAtMillis())
                .put(url);
        return out.array();
    }

    /**
     * Whether {@code entry} should replace the stored bytes, by {@link RouteEntry#replaces} rules,
     * reading only the stored revision and fetch time (no URL decoding on the write path).
     */
    static boolean replaces(RouteEntry entry, byte[] stored, long askedAt, long now) {
        if (stored == null || stored.length < HEADER || stored[0] != FORMAT) {
            return true;
        }
        ByteBuffer in = ByteBuffer.wrap(stored);
        return entry.replaces(in.getLong(2), in.getLong(10), askedAt, now);
    }

    /** Whether two encoded entries route alike: equal but for the fetch time. */
    static boolean sameRoute(byte[] a, byte[] b) {
        return a.length == b.length && java.util.Arrays.equals(a, 0, 10, b, 0, 10)
                && java.util.Arrays.equals(a, HEADER, a.length, b, HEADER, b.length);
    }

    /** A shared cache's value for {@code key}: null for none, {@link RouteCache.InvalidEntry} when it does not decode. */
    static RouteEntry decodeCached(String key, byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        RouteEntry entry = decode(key, bytes, bytes.length);
        if (entry == null) {
            throw new RouteCache.InvalidEntry(key);
        }
        return entry;
    }

    /**
     * Decodes what {@link #encode} wrote; null (treated as a miss) for bytes in another format, a
     * truncated entry, or values the route model refuses (a revision below 1, an invalid URL).
     */
    public static RouteEntry decode(String key, byte[] bytes, int length) {
        if (bytes == null || length < HEADER || bytes[0] != FORMAT) {
            return null;
        }
        ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
        in.get();
        int flags = in.get();
        long revision = in.getLong();
        long fetchedAt = in.getLong();
        if ((flags & FLAG_EXISTS) == 0) {
            return length == HEADER && revision == 0 ? RouteEntry.absent(key, fetchedAt) : null;
        }
        String url = new String(bytes, HEADER, length - HEADER, StandardCharsets.US_ASCII);
        try {
            return RouteEntry.found(key, url, (flags & FLAG_ACTIVE) != 0, revision, fetchedAt,
                    RouteProtocol.fromCode(flags >>> PROTOCOL_SHIFT & 3));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
