package dev.trafficmanager.proxy.lookup;

import dev.trafficmanager.route.RouteProtocol;
import dev.trafficmanager.route.SplitKey;
import dev.trafficmanager.route.Tlv;
import dev.trafficmanager.route.TrafficFields;
import java.nio.ByteBuffer;

/**
 * The bytes of a {@link RouteEntry} in L1 (Chronicle Map), L2 (Redis) and the node agent's answers:
 * a format byte, flags, revision, fetch time, then tagged fields ({@link Tlv}): a route's URL and its
 * options ({@link TrafficFields}), or a split's weights. The key is not stored: every tier keys by it.
 * Flags: bit 0 active, bit 1 exists, bits 2-3 the route's protocol (0 auto, 1 http1, 2 h2), bit 4 a
 * split. Format 2 (issue 16) replaced format 1 (the URL in ASCII after the header): an L1 file of
 * format 1 entries is moved aside and rebuilt ({@link L1Store}), and Redis's key prefix changed.
 */
public final class EntryCodec {
    private static final byte FORMAT = 2;
    private static final int FLAG_ACTIVE = 1;
    private static final int FLAG_EXISTS = 2;
    private static final int PROTOCOL_SHIFT = 2;
    private static final int FLAG_SPLIT = 16;
    private static final int HEADER = 1 + 1 + 8 + 8;
    private static final int TAG_URL = 6; // the event codec's

    private EntryCodec() {
    }

    public static byte[] encode(RouteEntry entry) {
        Tlv.Writer out = new Tlv.Writer(HEADER + 64)
                .raw(FORMAT)
                .raw((entry.active() ? FLAG_ACTIVE : 0) | (entry.exists() ? FLAG_EXISTS : 0)
                        | entry.protocol().code() << PROTOCOL_SHIFT | (entry.split() != null ? FLAG_SPLIT : 0))
                .rawLong(entry.revision())
                .rawLong(entry.fetchedAtMillis());
        if (entry.split() != null) {
            TrafficFields.write(out, entry.split());
        } else if (entry.exists()) {
            out.string(TAG_URL, entry.url());
            TrafficFields.write(out, entry.options());
        }
        return out.toBytes();
    }

    /** Whether {@code stored} is of this format (its first byte). */
    static boolean isCurrentFormat(byte[] stored) {
        return stored != null && stored.length > 0 && stored[0] == FORMAT;
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
        String[] url = new String[1];
        TrafficFields traffic = new TrafficFields();
        try {
            Tlv.read(in, (tag, field, size) -> {
                if (tag == TAG_URL) {
                    url[0] = Tlv.string(field, size);
                } else {
                    traffic.accept(tag, field, size);
                }
            });
            boolean active = (flags & FLAG_ACTIVE) != 0;
            if (((flags & FLAG_SPLIT) != 0) != SplitKey.isSplitKey(key)) {
                return null; // a split's value under a route's key, or the reverse: forged or corrupt
            }
            if ((flags & FLAG_SPLIT) != 0) {
                return url[0] == null ? RouteEntry.split(key, traffic.split(), active, revision, fetchedAt) : null;
            }
            return RouteEntry.found(key, url[0], active, revision, fetchedAt,
                    RouteProtocol.fromCode(flags >>> PROTOCOL_SHIFT & 3), traffic.options());
        } catch (IllegalArgumentException e) { // InvalidRouteException included
            return null;
        }
    }
}
