package dev.trafficmanager.route;

import java.nio.ByteBuffer;

/**
 * Binary form of a {@link RouteEvent} or {@link SplitEvent}, used as the Kafka record value.
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
    /**
     * 2 added the protocol (tag 10); a reader of version 1 skips it and routes as before. 3 added a
     * route's endpoints, timeout and retries ({@link TrafficFields}; a reader of version 2 skips them
     * and routes to the URL, the first endpoint) and split events (no version or URL, weights
     * instead: a reader of version 2 cannot decode them, counts them and skips them).
     */
    public static final int FORMAT_VERSION = 3;
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

    public static byte[] encode(ChangeEvent event) {
        return event instanceof RouteEvent route ? encode(route) : encode((SplitEvent) event);
    }

    public static byte[] encode(RouteEvent event) {
        Tlv.Writer out = common(event.type(), event.key().tenant(), event.key().service(), event.key().env(),
                event.active(), event.revision(), event.occurredAtMillis());
        out.string(TAG_VERSION, event.key().version()).string(TAG_URL, event.url())
                .oneByte(TAG_PROTOCOL, event.protocol().code());
        TrafficFields.write(out, event.options());
        return out.toBytes();
    }

    public static byte[] encode(SplitEvent event) {
        Tlv.Writer out = common(event.type(), event.key().tenant(), event.key().service(), event.key().env(),
                event.active(), event.revision(), event.occurredAtMillis());
        TrafficFields.write(out, event.split());
        return out.toBytes();
    }

    private static Tlv.Writer common(RouteEventType type, String tenant, String service, String env, boolean active,
                                     long revision, long occurredAt) {
        return new Tlv.Writer(128).raw(FORMAT_VERSION).oneByte(TAG_TYPE, type.code()).string(TAG_TENANT, tenant)
                .string(TAG_SERVICE, service).string(TAG_ENV, env).oneByte(TAG_ACTIVE, active ? 1 : 0)
                .int64(TAG_REVISION, revision).int64(TAG_OCCURRED_AT, occurredAt);
    }

    /**
     * Decodes a route event written by this or a later format version that kept version 1's fields.
     *
     * @throws InvalidRouteException ({@code invalid_event}) for truncated or inconsistent input,
     *     a missing required field, a field that breaks the route model's rules, or a split's event
     */
    public static RouteEvent decode(byte[] bytes) {
        if (decodeChange(bytes) instanceof RouteEvent route) {
            return route;
        }
        throw Tlv.invalid("a split's event, not a route's");
    }

    /** Decodes a route's or a split's event; throws as {@link #decode} does. */
    public static ChangeEvent decodeChange(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw Tlv.invalid("empty input");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes);
        int format = in.get() & 0xff;
        if (format < OLDEST_FORMAT) {
            throw Tlv.invalid("format version " + format + " (expected: >= " + OLDEST_FORMAT + ")");
        }
        Fields fields = new Fields();
        try {
            Tlv.read(in, fields);
            return fields.event(format);
        } catch (InvalidRouteException e) {
            throw e.code().equals("invalid_event") ? e : Tlv.invalid(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw Tlv.invalid(e.getMessage());
        }
    }

    /** The fields of one event as they are read. */
    private static final class Fields implements Tlv.Field {
        private int typeCode = -1;
        private String tenant;
        private String service;
        private String env;
        private String version;
        private String url;
        private int active = -1;
        private Long revision;
        private Long occurredAt;
        private int protocol = -1; // required from format 2 on; a version 1 event has the default
        private final TrafficFields traffic = new TrafficFields();

        @Override
        public void accept(int tag, ByteBuffer in, int length) {
            switch (tag) {
                case TAG_TYPE -> typeCode = Tlv.oneByte(in, tag, length);
                case TAG_TENANT -> tenant = Tlv.string(in, length);
                case TAG_SERVICE -> service = Tlv.string(in, length);
                case TAG_ENV -> env = Tlv.string(in, length);
                case TAG_VERSION -> version = Tlv.string(in, length);
                case TAG_URL -> url = Tlv.string(in, length);
                case TAG_ACTIVE -> active = Tlv.oneByte(in, tag, length);
                case TAG_REVISION -> revision = Tlv.int64(in, tag, length);
                case TAG_OCCURRED_AT -> occurredAt = Tlv.int64(in, tag, length);
                case TAG_PROTOCOL -> protocol = Tlv.oneByte(in, tag, length);
                default -> traffic.accept(tag, in, length); // or a field from a later version: skipped
            }
        }

        ChangeEvent event(int format) {
            if (typeCode < 0 || tenant == null || service == null || env == null || active < 0 || revision == null
                    || occurredAt == null) {
                throw Tlv.invalid("a required field is missing");
            }
            RouteEventType type = RouteEventType.fromCode(typeCode);
            if (type == null) {
                throw Tlv.invalid("unknown event type " + typeCode);
            }
            if (active > 1) {
                throw Tlv.invalid("active flag " + active + " (expected: 0 or 1)");
            }
            if (traffic.isSplit()) {
                if (version != null || url != null) {
                    throw Tlv.invalid("a split's event with a version or a URL");
                }
                return new SplitEvent(type, new SplitKey(tenant, service, env), traffic.split(), active == 1, revision,
                        occurredAt);
            }
            if (protocol < 0 && format >= 2) {
                throw Tlv.invalid("a required field is missing: the protocol (format " + format + ")");
            }
            if (version == null || url == null) {
                throw Tlv.invalid("a required field is missing");
            }
            return new RouteEvent(type, new RouteKey(tenant, service, env, version), url, active == 1, revision,
                    occurredAt, protocol < 0 ? RouteProtocol.AUTO : RouteProtocol.fromCode(protocol), traffic.options());
        }
    }
}
