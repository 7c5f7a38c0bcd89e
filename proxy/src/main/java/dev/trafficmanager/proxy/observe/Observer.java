package dev.trafficmanager.proxy.observe;

import io.netty.handler.codec.http.HttpRequest;

/**
 * What the proxy port does to watch requests: starts each one's {@link AccessRecord} (reading and,
 * as configured, creating its trace context) and hands it to the access log when it ended. With the
 * log and trace context both off, requests get no record at all.
 */
public final class Observer implements AutoCloseable {
    public static final Observer OFF = new Observer(null, ObserveConfig.OFF);

    private final AccessLog log;
    private final ObserveConfig config;

    public Observer(AccessLog log, ObserveConfig config) {
        this.log = log;
        this.config = config;
    }

    /** The record of a request starting now; null when nothing watches. */
    public AccessRecord start(HttpRequest request, boolean http2) {
        if (log == null && config.trace() == ObserveConfig.TraceMode.OFF) {
            return null;
        }
        return new AccessRecord(request.method().name(), http2 ? "HTTP/2.0" : request.protocolVersion().text(), request.uri());
    }

    /**
     * Reads (and, as configured, completes) the request's trace context, before it is routed; a
     * request refused before routing ({@code mayAdd} false) has its own ids read, none added.
     */
    public void traceContext(HttpRequest request, AccessRecord record, boolean mayAdd) {
        if (record != null) {
            ObserveConfig.TraceMode mode = config.trace() == ObserveConfig.TraceMode.CREATE && !mayAdd
                    ? ObserveConfig.TraceMode.PASS : config.trace();
            TraceContext.apply(request.headers(), mode, config.samplePercent(), record);
        }
    }

    /** The request ended ({@link AccessRecord#ended} was called): log it. */
    public void finish(AccessRecord record) {
        if (record != null && log != null) {
            log.offer(record);
        }
    }

    @Override
    public void close() {
        if (log != null) {
            log.close();
        }
    }
}
