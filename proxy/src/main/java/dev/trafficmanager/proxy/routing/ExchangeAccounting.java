package dev.trafficmanager.proxy.routing;

/**
 * What an exchange counts and holds of the sidecar's shared state while it runs: its place among
 * the requests in flight (the drain's count), its tenant's slot in the bulkhead, and, when it ends,
 * its response status. Confined to the exchange's event loop.
 */
final class ExchangeAccounting {
    private final ProxyServices services;
    private String bulkheadSlot; // the tenant's slot in the bulkhead, while held

    ExchangeAccounting(ProxyServices services) {
        this.services = services;
        services.drain().started();
    }

    /** The exchange holds one of its tenant's slots in the bulkhead until it ends. */
    void holdSlot(String slot) {
        bulkheadSlot = slot;
    }

    /** The exchange ended with {@code responseStatus} sent (0: none went out): everything given back, once. */
    void ended(int responseStatus) {
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
