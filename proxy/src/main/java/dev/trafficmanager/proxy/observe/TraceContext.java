package dev.trafficmanager.proxy.observe;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.HexFormat;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * W3C trace context ({@code traceparent}, {@code tracestate}) and {@code x-request-id} on a request:
 * read, and in {@link ObserveConfig.TraceMode#CREATE} mode created when absent, so the application's
 * own calls can be correlated. A valid {@code traceparent} passes unchanged (the sidecar records no
 * span of its own); a malformed one is replaced by a new trace and its {@code tracestate} dropped, as
 * the W3C recommendation asks of a participant that cannot parse it. Created trace ids are random,
 * marked sampled for {@code TM_TRACE_SAMPLE_PERCENT} of them (all by default, as Envoy's random sampling).
 */
public final class TraceContext {
    public static final AsciiString TRACEPARENT = AsciiString.cached("traceparent");
    public static final AsciiString TRACESTATE = AsciiString.cached("tracestate");
    public static final AsciiString REQUEST_ID = AsciiString.cached("x-request-id");
    private static final HexFormat HEX = HexFormat.of();

    private TraceContext() {
    }

    /** Reads (and, creating, completes) {@code headers}' trace context into {@code record}. */
    public static void apply(HttpHeaders headers, ObserveConfig.TraceMode mode, int samplePercent, AccessRecord record) {
        if (mode == ObserveConfig.TraceMode.OFF) {
            return;
        }
        boolean create = mode == ObserveConfig.TraceMode.CREATE;
        String requestId = headers.get(REQUEST_ID);
        if (requestId == null && create) {
            requestId = newRequestId();
            headers.set(REQUEST_ID, requestId);
        }
        record.requestId = requestId;
        String traceparent = headers.get(TRACEPARENT);
        String traceId = traceparent != null && headers.getAll(TRACEPARENT).size() == 1 ? traceId(traceparent) : null;
        if (traceId == null && create) {
            traceId = newId(2);
            boolean sampled = samplePercent >= 100 || ThreadLocalRandom.current().nextInt(100) < samplePercent;
            headers.set(TRACEPARENT, "00-" + traceId + "-" + newId(1) + (sampled ? "-01" : "-00"));
            headers.remove(TRACESTATE);
        }
        record.traceId = traceId;
    }

    /**
     * The trace id of a valid {@code traceparent} ({@code version-traceid-parentid-flags}, lower-case
     * hex, ids not all zero, version not {@code ff}; version 00 exactly 55 characters, a later one may
     * carry more after a dash); null when it is not one.
     */
    static String traceId(String value) {
        if (value.length() < 55 || (value.length() > 55 && (value.startsWith("00") || value.charAt(55) != '-'))) {
            return null;
        }
        if (!hex(value, 0, 2) || value.startsWith("ff") || value.charAt(2) != '-' || !hex(value, 3, 35)
                || value.charAt(35) != '-' || !hex(value, 36, 52) || value.charAt(52) != '-' || !hex(value, 53, 55)) {
            return null;
        }
        if (zeros(value, 3, 35) || zeros(value, 36, 52)) {
            return null;
        }
        return value.substring(3, 35);
    }

    private static boolean hex(String value, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = value.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static boolean zeros(String value, int from, int to) {
        for (int i = from; i < to; i++) {
            if (value.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }

    /** {@code longs} random 64-bit values as lower-case hex (16 characters each), never all zero. */
    static String newId(int longs) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long first;
        do {
            first = random.nextLong();
        } while (first == 0);
        return longs == 1 ? HEX.toHexDigits(first) : HEX.toHexDigits(first) + HEX.toHexDigits(random.nextLong());
    }

    /** A random id in the UUID form Envoy's x-request-id takes: a version 4 UUID, from a fast (not secure) source. */
    static String newRequestId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return new UUID(random.nextLong() & ~0xf000L | 0x4000L, random.nextLong() & ~(3L << 62) | 1L << 63).toString();
    }

    /** Puts the request's ids on a response the sidecar writes itself. */
    public static void stamp(HttpHeaders response, AccessRecord record) {
        if (record == null) {
            return;
        }
        if (record.requestId != null) {
            response.set(REQUEST_ID, record.requestId);
        }
        if (record.traceId != null) {
            response.set("x-trace-id", record.traceId);
        }
    }
}
