package dev.trafficmanager.route;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Binary form of a {@link RouteEvent}, used as the Kafka record value and the Redis value.
 *
 * <pre>
 * byte    format version (1)
 * field*  tag (1 byte) | length (unsigned varint) | value (length bytes)
 * </pre>
 *
 * Fields are tagged so later versions can add fields: a reader skips tags it does not know, and a
 * writer never reuses or changes a tag. Strings are UTF-8; longs are 8 bytes big-endian; booleans
 * and the event type are one byte. A typical event is about 80 bytes.
 */
public final class RouteEventCodec {
    /** 2 added the protocol (tag 10); a reader of version 1 skips it and routes as before. */
    public static final int FORMAT_VERSION = 2;
    static final int OLDEST_FORMAT = 1;

    static final int TAG_TYPE = 1;
    static final int TAG_TENANT = 2;
    static final int TAG_SERVICE = 3;
    static final int TAG_ENV = 4;
    static final int TAG_VERSION = 5;
    static final int TAG_URL = 6;
    static final int TAG_ACTIVE = 7;
    static final int TAG_REVISION = 8;
    static final int TAG_OCCURRED_AT = 9;
    static final int TAG_PROTOCOL = 10;

    private RouteEventCodec() {
    }

    public static byte[] encode(RouteEvent event) {
        byte[] tenant = utf8(event.key().tenant());
        byte[] service = utf8(event.key().service());
        byte[] env = utf8(event.key().env());
        byte[] version = utf8(event.key().version());
        byte[] url = utf8(event.url());
        int size = 1 + field(1) + field(tenant.length) + field(service.length) + field(env.length)
                + field(version.length) + field(url.length) + field(1) + field(8) + field(8) + field(1);
        ByteBuffer out = ByteBuffer.allocate(size);
        out.put((byte) FORMAT_VERSION);
        putTag(out, TAG_TYPE, 1).put((byte) event.type().code());
        putTag(out, TAG_TENANT, tenant.length).put(tenant);
        putTag(out, TAG_SERVICE, service.length).put(service);
        putTag(out, TAG_ENV, env.length).put(env);
        putTag(out, TAG_VERSION, version.length).put(version);
        putTag(out, TAG_URL, url.length).put(url);
        putTag(out, TAG_ACTIVE, 1).put((byte) (event.active() ? 1 : 0));
        putTag(out, TAG_REVISION, 8).putLong(event.revision());
        putTag(out, TAG_OCCURRED_AT, 8).putLong(event.occurredAtMillis());
        putTag(out, TAG_PROTOCOL, 1).put((byte) event.protocol().code());
        return out.array();
    }

    /**
     * Decodes an event written by this or a later format version that kept version 1's fields.
     *
     * @throws InvalidRouteException ({@code invalid_event}) for truncated or inconsistent input,
     *     a missing required field, or a field that breaks the route model's rules
     */
    public static RouteEvent decode(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw invalid("empty input");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        int format = in.get() & 0xff;
        if (format < OLDEST_FORMAT) {
            throw invalid("format version " + format + " (expected: >= " + OLDEST_FORMAT + ")");
        }
        int typeCode = -1;
        String tenant = null;
        String service = null;
        String env = null;
        String version = null;
        String url = null;
        int active = -1;
        Long revision = null;
        Long occurredAt = null;
        int protocol = -1; // required from format 2 on; a version 1 event has the default
        while (in.hasRemaining()) {
            int tag = in.get() & 0xff;
            int length = readVarint(in);
            if (length > in.remaining()) {
                throw invalid("field " + tag + " claims " + length + " bytes, " + in.remaining() + " left");
            }
            int start = in.position();
            switch (tag) {
                case TAG_TYPE -> typeCode = fixedByte(in, tag, length);
                case TAG_TENANT -> tenant = string(in, length);
                case TAG_SERVICE -> service = string(in, length);
                case TAG_ENV -> env = string(in, length);
                case TAG_VERSION -> version = string(in, length);
                case TAG_URL -> url = string(in, length);
                case TAG_ACTIVE -> active = fixedByte(in, tag, length);
                case TAG_REVISION -> revision = fixedLong(in, tag, length);
                case TAG_OCCURRED_AT -> occurredAt = fixedLong(in, tag, length);
                case TAG_PROTOCOL -> protocol = fixedByte(in, tag, length);
                default -> { } // a field from a later version: skipped below
            }
            in.position(start + length);
        }
        if (protocol < 0 && format >= 2) {
            throw invalid("a required field is missing: the protocol (format " + format + ")");
        }
        if (typeCode < 0 || tenant == null || service == null || env == null || version == null
                || url == null || active < 0 || revision == null || occurredAt == null) {
            throw invalid("a required field is missing");
        }
        RouteEventType type = RouteEventType.fromCode(typeCode);
        if (type == null) {
            throw invalid("unknown event type " + typeCode);
        }
        if (active > 1) {
            throw invalid("active flag " + active + " (expected: 0 or 1)");
        }
        try {
            return new RouteEvent(type, new RouteKey(tenant, service, env, version), url, active == 1,
                    revision, occurredAt, protocol < 0 ? RouteProtocol.AUTO : RouteProtocol.fromCode(protocol));
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
    }

    private static int field(int valueLength) {
        return 1 + varintSize(valueLength) + valueLength;
    }

    private static ByteBuffer putTag(ByteBuffer out, int tag, int length) {
        out.put((byte) tag);
        int value = length;
        while ((value & ~0x7f) != 0) {
            out.put((byte) ((value & 0x7f) | 0x80));
            value >>>= 7;
        }
        return out.put((byte) value);
    }

    private static int varintSize(int value) {
        int size = 1;
        while ((value & ~0x7f) != 0) {
            value >>>= 7;
            size++;
        }
        return size;
    }

    private static int readVarint(ByteBuffer in) {
        int value = 0;
        for (int shift = 0; shift < 32; shift += 7) {
            if (!in.hasRemaining()) {
                throw invalid("truncated length");
            }
            int b = in.get() & 0xff;
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                if (value < 0) {
                    throw invalid("length out of range");
                }
                return value;
            }
        }
        throw invalid("length longer than 5 bytes");
    }

    private static int fixedByte(ByteBuffer in, int tag, int length) {
        if (length != 1) {
            throw invalid("field " + tag + " has " + length + " bytes (expected: 1)");
        }
        return in.get() & 0xff;
    }

    private static long fixedLong(ByteBuffer in, int tag, int length) {
        if (length != 8) {
            throw invalid("field " + tag + " has " + length + " bytes (expected: 8)");
        }
        return in.getLong();
    }

    private static String string(ByteBuffer in, int length) {
        return new String(in.array(), in.position(), length, StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static InvalidRouteException invalid(String why) {
        return new InvalidRouteException("invalid_event", "route event: " + why);
    }
}
