package dev.trafficmanager.proxy.lookup;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * A bounded on-heap copy of the hottest L1 entries, in front of the Chronicle Map: a hit is a
 * {@link ConcurrentHashMap} read with a {@link RouteKeyProbe}, no copy and no allocation, where a
 * Chronicle Map read costs a segment lock and a decode. The same revision guard as L1 applies, and
 * every event or lookup that updates L1 updates this map too, so it is never older than L1.
 *
 * <p>When full, about an eighth of the entries is dropped, picked by their hash, a different eighth
 * each time (they stay in L1 and come back on their next use). Dropping whichever entries an
 * iterator meets first would always empty the same low buckets of the table and pile the survivors
 * into the high ones, into long, treeified bins.
 *
 * <p>In a sidecar that only reads a shared L1 (node mode) another process writes L1: then the cache
 * follows L1's change counter ({@link L1Changes}): it empties when the counter moved, and an entry
 * copied in is dropped again when the counter moved since the caller's {@link #mark()}. Thread-safe.
 */
final class NearCache {
    private final ConcurrentHashMap<String, RouteEntry> entries;
    private final int capacity;
    private final AtomicInteger evictionRound = new AtomicInteger();
    /** L1's change counter when L1 has another writer, else null. */
    private final LongSupplier l1Changes;
    private volatile long seen;

    NearCache(int capacity) {
        this(capacity, null);
    }

    NearCache(int capacity, LongSupplier l1Changes) {
        this.capacity = capacity;
        this.l1Changes = l1Changes;
        this.seen = l1Changes == null ? 0 : l1Changes.getAsLong();
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

    /**
     * L1's change counter now, after emptying the cache if it moved since last seen (0 when L1 has
     * no other writer). Take it before reading L1 and pass it to {@link #offer(RouteEntry, long, long, long)}.
     */
    long mark() {
        if (l1Changes == null) {
            return 0;
        }
        long now = l1Changes.getAsLong();
        if (now != seen) {
            synchronized (this) {
                if (now != seen) {
                    entries.clear();
                    seen = now;
                }
            }
        }
        return now;
    }

    /** Stores {@code entry} unless the cache holds one that supersedes it. */
    void offer(RouteEntry entry) {
        offer(entry, RouteEntry.NOT_ASKED, 0);
    }

    /** The same for PostgreSQL's answer to a question asked at {@code askedAt}, at {@code now} ({@link RouteEntry#replaces}). */
    void offer(RouteEntry entry, long askedAt, long now) {
        offer(entry, askedAt, now, mark());
    }

    /**
     * The same for an entry read when L1's change counter was {@code mark}: dropped again if the
     * counter moved meanwhile (the entry may be older than L1 now; the next read copies it anew).
     */
    void offer(RouteEntry entry, long askedAt, long now, long mark) {
        if (capacity == 0) {
            return;
        }
        if (entries.size() >= capacity && !entries.containsKey(entry.key())) {
            evictSome();
        }
        entries.merge(entry.key(), entry,
                (old, fresh) -> fresh.replaces(old.revision(), old.fetchedAtMillis(), askedAt, now) ? fresh : old);
        if (l1Changes != null && l1Changes.getAsLong() != mark) {
            entries.remove(entry.key(), entry);
        }
    }

    int size() {
        return entries.size();
    }

    private void evictSome() {
        int round = evictionRound.getAndIncrement() & 7;
        entries.keySet().removeIf(key -> eighth(key) == round);
    }

    /** Which eighth a key falls in: high bits of a mixed hash, unrelated to its bucket in the table. */
    static int eighth(String key) {
        return (key.hashCode() * 0x9E3779B9) >>> 29;
    }
}
