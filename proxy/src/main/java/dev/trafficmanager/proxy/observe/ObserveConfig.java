package dev.trafficmanager.proxy.observe;

import dev.trafficmanager.config.Settings;
import java.util.Locale;

/**
 * The access log and trace context settings.
 *
 * @param accessLog TM_ACCESS_LOG, default stdout: {@code off}, {@code stdout}, or a file path (appended to)
 * @param logQuery  TM_ACCESS_LOG_QUERY, default off: {@code on} keeps a path's query string in the log
 * @param queueSize TM_ACCESS_LOG_QUEUE, default 16384: lines waiting for the writer; when full, lines are dropped and counted
 * @param trace     TM_TRACE_CONTEXT, default create
 * @param samplePercent TM_TRACE_SAMPLE_PERCENT, default 100: the share of the traces the sidecar creates that
 *                  are marked sampled (the flags of {@code traceparent}), as Envoy's random sampling
 */
public record ObserveConfig(String accessLog, boolean logQuery, int queueSize, TraceMode trace, int samplePercent) {
    public static final ObserveConfig OFF = new ObserveConfig("off", false, 64, TraceMode.OFF, 100);

    /**
     * What the sidecar does with W3C trace context ({@code traceparent}, {@code tracestate}) and
     * {@code x-request-id}: {@code create} passes them on and creates those a request lacks (and a
     * new trace for a malformed {@code traceparent}), {@code pass} passes them on and creates nothing,
     * {@code off} does not read them (the log has no ids).
     */
    public enum TraceMode { CREATE, PASS, OFF }

    public static ObserveConfig fromEnv(Settings s) {
        String target = s.string("TM_ACCESS_LOG", "stdout").trim();
        if (target.isEmpty()) {
            throw new IllegalArgumentException("TM_ACCESS_LOG: empty (expected: off, stdout or a file path)");
        }
        return new ObserveConfig(target.equalsIgnoreCase("off") || target.equalsIgnoreCase("stdout")
                ? target.toLowerCase(Locale.ROOT) : target,
                onOff(s.string("TM_ACCESS_LOG_QUERY", "off"), "TM_ACCESS_LOG_QUERY"),
                s.integer("TM_ACCESS_LOG_QUEUE", 16384, 64, 1 << 22),
                traceMode(s.string("TM_TRACE_CONTEXT", "create")),
                s.integer("TM_TRACE_SAMPLE_PERCENT", 100, 0, 100));
    }

    public boolean logging() {
        return !accessLog.equals("off");
    }

    private static boolean onOff(String value, String name) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "on", "true" -> true;
            case "off", "false" -> false;
            default -> throw new IllegalArgumentException(name + ": \"" + value + "\" (expected: on or off)");
        };
    }

    private static TraceMode traceMode(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "create" -> TraceMode.CREATE;
            case "pass" -> TraceMode.PASS;
            case "off" -> TraceMode.OFF;
            default -> throw new IllegalArgumentException("TM_TRACE_CONTEXT: \"" + value + "\" (expected: create, pass or off)");
        };
    }
}
