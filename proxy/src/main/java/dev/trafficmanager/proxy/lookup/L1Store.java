package dev.trafficmanager.proxy.lookup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ExternalMapQueryContext;
import net.openhft.chronicle.map.MapEntry;

/**
 * L1: the route entries in an off-heap Chronicle Map persisted to a file, so a restarted sidecar
 * routes at once, and several sidecar processes on one node can share it (its locks live in the
 * file's shared memory). Keys are canonical route keys, values {@link EntryCodec} bytes.
 *
 * <p>Reads may run on event loops: a read takes a segment read lock for the time of a copy. Writes
 * take the entry's update lock and may contend with other processes, so only the
 * {@link L1Writer} thread writes.
 */
public final class L1Store implements AutoCloseable {
    private static final String AVERAGE_KEY = "tenant-name/service-name/production/v12";
    private static final int AVERAGE_VALUE_BYTES = 18 + 48;

    private final ChronicleMap<CharSequence, byte[]> map;

    private L1Store(ChronicleMap<CharSequence, byte[]> map) {
        this.map = map;
    }

    /**
     * Opens the map file, creating it (and its folder) when absent. An existing file keeps the
     * sizing it was created with; {@code maxEntries} applies only to a new file.
     */
    public static L1Store open(Path file, int maxEntries) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            ChronicleMap<CharSequence, byte[]> map = ChronicleMap.of(CharSequence.class, byte[].class)
                    .name("tm-routes")
                    .entries(maxEntries)
                    .averageKey(AVERAGE_KEY)
                    .averageValueSize(AVERAGE_VALUE_BYTES)
                    .maxBloatFactor(2.0)
                    .createPersistedTo(file.toFile());
            return new L1Store(map);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the L1 route file " + file, e);
        }
    }

    /** The entry for {@code key}, or null. {@code keyString} must be {@code key.toString()}. */
    RouteEntry get(CharSequence key, String keyString) {
        byte[] bytes = map.get(key);
        return bytes == null ? null : EntryCodec.decode(keyString, bytes, bytes.length);
    }

    /**
     * Stores {@code entry} unless the stored one supersedes it (an older revision never overwrites
     * a newer one), atomically across processes. Returns whether it was stored. Only the writer
     * thread (and benchmarks) call it: it may wait for a lock another process holds.
     */
    public boolean apply(RouteEntry entry) {
        try (ExternalMapQueryContext<CharSequence, byte[], ?> context = map.queryContext(entry.key())) {
            context.updateLock().lock();
            MapEntry<CharSequence, byte[]> present = context.entry();
            if (present == null) {
                context.absentEntry().doInsert(context.wrapValueAsData(EntryCodec.encode(entry)));
                return true;
            }
            if (!EntryCodec.supersedes(entry, present.value().get())) {
                return false;
            }
            present.doReplaceValue(context.wrapValueAsData(EntryCodec.encode(entry)));
            return true;
        }
    }

    /**
     * Removes negative entries confirmed before {@code cutoffMillis}: past their TTL they only cost
     * room, and unknown keys (typos, scans) must not fill a file the node's sidecars share.
     * Returns how many were removed. Writer thread only.
     */
    int removeAbsentBefore(long cutoffMillis) {
        List<String> stale = new ArrayList<>();
        for (Map.Entry<CharSequence, byte[]> e : map.entrySet()) {
            String key = e.getKey().toString();
            RouteEntry entry = EntryCodec.decode(key, e.getValue(), e.getValue().length);
            if (entry != null && !entry.exists() && entry.fetchedAtMillis() < cutoffMillis) {
                stale.add(key);
            }
        }
        int removed = 0;
        for (String key : stale) {
            try (ExternalMapQueryContext<CharSequence, byte[], ?> context = map.queryContext(key)) {
                context.updateLock().lock();
                MapEntry<CharSequence, byte[]> present = context.entry();
                if (present != null) {
                    byte[] bytes = present.value().get();
                    RouteEntry entry = EntryCodec.decode(key, bytes, bytes.length);
                    if (entry != null && !entry.exists() && entry.fetchedAtMillis() < cutoffMillis) {
                        present.doRemove(); // re-checked under the lock: another process may have written it
                        removed++;
                    }
                }
            }
        }
        return removed;
    }

    /** Whether L1 is at least 90 % full; then negative entries stay out of it. */
    boolean nearlyFull() {
        // The file's own figure: a file keeps the size it was created with, whatever this process asked.
        return map.percentageFreeSpace() < 10;
    }

    /** Up to {@code limit} entries whose key starts with {@code prefix}, for the admin port. */
    public List<RouteEntry> list(String prefix, int limit, Predicate<String> keyFilter) {
        List<RouteEntry> out = new ArrayList<>();
        for (Map.Entry<CharSequence, byte[]> e : map.entrySet()) {
            String key = e.getKey().toString();
            if (key.startsWith(prefix) && keyFilter.test(key)) {
                RouteEntry entry = EntryCodec.decode(key, e.getValue(), e.getValue().length);
                if (entry != null) {
                    out.add(entry);
                    if (out.size() >= limit) {
                        break;
                    }
                }
            }
        }
        return out;
    }

    public long size() {
        return map.longSize();
    }

    @Override
    public void close() {
        map.close();
    }
}
