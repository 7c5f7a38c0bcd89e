package dev.trafficmanager.proxy.routing;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A cap on each tenant's requests in flight through this sidecar ({@code TM_PROXY_TENANT_MAX_IN_FLIGHT}),
 * so one tenant's burst or slow upstream cannot hold every connection and event-loop turn the
 * others need: past its cap a tenant's requests get 503 {@code tenant_overloaded} at once. Off (0)
 * by default, and then free: a sidecar next to one application serves one tenant. The map holds
 * only tenants with requests in flight. Thread-safe.
 */
public final class TenantBulkhead {
    public static final TenantBulkhead OFF = new TenantBulkhead(0);

    private final int cap;
    private final ConcurrentHashMap<String, Integer> inFlight = new ConcurrentHashMap<>();

    public TenantBulkhead(int cap) {
        this.cap = cap;
    }

    boolean enabled() {
        return cap > 0;
    }

    int cap() {
        return cap;
    }

    /** Takes one of the tenant's slots; returns the key to release it with, or null when the tenant is at its cap. */
    String tryAcquire(CharSequence tenant) {
        String key = tenant.toString();
        if (inFlight.merge(key, 1, Integer::sum) > cap) {
            release(key);
            return null;
        }
        return key;
    }

    void release(String key) {
        inFlight.computeIfPresent(key, (tenant, count) -> count == 1 ? null : count - 1);
    }
}
