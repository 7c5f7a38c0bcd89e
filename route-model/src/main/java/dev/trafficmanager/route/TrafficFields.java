package dev.trafficmanager.route;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tagged fields of a route's options and of a split, written alike into route events and the
 * sidecar's cached entries (format 3 of the event codec): one {@code ENDPOINT} field per endpoint
 * (weight, URL), {@code TIMEOUT_MS}, {@code RETRIES} (attempts, condition bits), one
 * {@code SPLIT_WEIGHT} field per version (weight, version), {@code STICKY_HEADER},
 * {@code STICKY_COOKIE}. Absent fields are defaults.
 */
public final class TrafficFields {
    public static final int TAG_ENDPOINT = 11;
    public static final int TAG_TIMEOUT_MS = 12;
    public static final int TAG_RETRIES = 13;
    public static final int TAG_SPLIT_WEIGHT = 14;
    public static final int TAG_STICKY_HEADER = 15;
    public static final int TAG_STICKY_COOKIE = 16;

    private final List<Endpoint> endpoints = new ArrayList<>();
    private int timeoutMs;
    private RouteRetries retries;
    private final Map<String, Integer> weights = new LinkedHashMap<>();
    private String stickyHeader;
    private String stickyCookie;

    public static void write(Tlv.Writer out, RouteOptions options) {
        for (Endpoint endpoint : options.endpoints()) {
            out.weighted(TAG_ENDPOINT, endpoint.weight(), endpoint.url());
        }
        if (options.timeoutMs() > 0) {
            out.int32(TAG_TIMEOUT_MS, options.timeoutMs());
        }
        if (options.retries() != null) {
            out.bytes(TAG_RETRIES, new byte[] {(byte) options.retries().attempts(), (byte) options.retries().bits()});
        }
    }

    public static void write(Tlv.Writer out, Split split) {
        split.weights().forEach((version, weight) -> out.weighted(TAG_SPLIT_WEIGHT, weight, version));
        if (split.stickyHeader() != null) {
            out.string(TAG_STICKY_HEADER, split.stickyHeader());
        }
        if (split.stickyCookie() != null) {
            out.string(TAG_STICKY_COOKIE, split.stickyCookie());
        }
    }

    /** Takes the field if it is one of these; returns whether it was. */
    public boolean accept(int tag, ByteBuffer in, int length) {
        switch (tag) {
            case TAG_ENDPOINT -> endpoints.add(new Endpoint(Tlv.weightedName(in, tag, length), Tlv.weight(in, tag, length)));
            case TAG_TIMEOUT_MS -> timeoutMs = Tlv.int32(in, tag, length);
            case TAG_RETRIES -> {
                if (length != 2) {
                    throw Tlv.invalid("field " + tag + " has " + length + " bytes (expected: 2)");
                }
                retries = RouteRetries.of(in.get(in.position()) & 0xff, in.get(in.position() + 1) & 0xff);
            }
            case TAG_SPLIT_WEIGHT -> weights.put(Tlv.weightedName(in, tag, length), Tlv.weight(in, tag, length));
            case TAG_STICKY_HEADER -> stickyHeader = Tlv.string(in, length);
            case TAG_STICKY_COOKIE -> stickyCookie = Tlv.string(in, length);
            default -> {
                return false;
            }
        }
        return true;
    }

    /** The route options read; throws {@link InvalidRouteException} when they break the model's rules. */
    public RouteOptions options() {
        return endpoints.isEmpty() && timeoutMs == 0 && retries == null ? RouteOptions.NONE
                : new RouteOptions(endpoints, timeoutMs, retries);
    }

    /** Whether split fields were read. */
    public boolean isSplit() {
        return !weights.isEmpty();
    }

    /** The split read; throws {@link InvalidRouteException} when it breaks the model's rules. */
    public Split split() {
        return new Split(weights, stickyHeader, stickyCookie);
    }
}
