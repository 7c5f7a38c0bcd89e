package dev.trafficmanager.proxy.lookup;

import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A bounded on-heap copy of the hottest L1 entries, in front of the Chronicle Map: a hit is a
 * {@link ConcurrentHashMap} read with a {@link RouteKeyProbe}, no copy and no allocation, where a
 * Chronicle Map read costs a segment lock and a decode. The same revision guard as L1 applies, and
 * every event or lookup that updates L1 updates this map too, so it is never older than L1.
 *
 * <p>When full, an arbitrary eighth of the entries is dropped (they stay in L1 and come back on
 * their next use). Thread-safe.
 */
final class NearCache {
    private final ConcurrentHashMap<String, RouteEntry> entries;
    private final int capacity;

    NearCache(int capacity) {
        this.capacity = capacity;
        this.entries = new ConcurrentHashMap<>(Math.max(16, Math.min(capacity, 1 << 16)));
    }

    /** The entry for the probe's key, or null. Allocates nothing. */
    RouteEntry get(RouteKeyProbe probe) {
        // ConcurrentHashMap calls probe.equals(storedKey): the probe equals its canonical string.
        return capacity == 0 ? null : entries.get(probe);
    }

    RouteEntry get(String key) {
        return capacity == 0 ? null : entries.get(key);
    }

    /** Stores {@code entry} unless the cache holds one that supersedes it. */
    void offer(RouteEntry entry) {
        if (capacity == 0) {
            return;
        }
        if (entries.size() >= capacity && !entries.containsKey(entry.key())) {
            evictSome();
        }
        entries.merge(entry.key(), entry, (old, fresh) -> fresh.supersedes(old) ? fresh : old);
    }

    int size() {
        return entries.size();
    }

    private void evictSome() {
        int toDrop = Math.max(1, capacity / 8);
        Iterator<String> keys = entries.keySet().iterator();
        while (toDrop-- > 0 && keys.hasNext()) {
            keys.next();
            keys.remove();
        }
    }
}
