package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.observe.AccessRecord;
import io.netty.handler.codec.http.HttpContent;

/**
 * What an exchange counts and holds of the sidecar's shared state while it runs: its place among
 * the requests in flight (the drain's count), its tenant's slot in the bulkhead, and, when it ends,
 * its response status and its access log record. Confined to the exchange's event loop.
 */
final class ExchangeAccounting {
    private final ProxyServices services;
    private final AccessRecord record; // null when nothing watches requests
    private String bulkheadSlot; // the tenant's slot in the bulkhead, while held
    private boolean over; // ended: the record may be with the log's writer already

    /** {@code path}: the request's target as routed (null when refused before routing: the record keeps the raw one). */
    ExchangeAccounting(ProxyServices services, AccessRecord record, String path) {
        this.services = services;
        this.record = record;
        if (record != null) {
            record.path(path);
        }
        services.drain().started();
    }

    /** A part of the response body goes to the client: counted, and returned. */
    HttpContent sent(HttpContent content) {
        if (record != null) {
            record.sent(content.content().readableBytes());
        }
        return content;
    }

    /** The exchange ends with an error of the sidecar's own, {@code code} (or is cut: the code says why). */
    void failed(String code) {
        if (record != null && !over) {
            record.error(code);
        }
    }

    /** The exchange holds one of its tenant's slots in the bulkhead until it ends. */
    void holdSlot(String slot) {
        bulkheadSlot = slot;
    }

    /**
     * The exchange ended with {@code responseStatus} sent (0: none went out): everything given back,
     * once. Its record is logged now when {@code log}; a failure's once its error response is written.
     */
    void ended(int responseStatus, UpstreamAttempts attempts, long bytesIn, boolean log) {
        over = true;
        if (record != null) {
            if (attempts.target() != null) {
                record.upstream(attempts.target().poolKey());
            }
            record.ended(responseStatus, bytesIn, attempts.retried());
            if (log) {
                services.observer().finish(record);
            }
        }
        if (bulkheadSlot != null) {
            services.bulkhead().release(bulkheadSlot);
            bulkheadSlot = null;
        }
        if (responseStatus != 0) {
            services.metrics().response(responseStatus);
        }
        services.drain().ended();
    }
}
