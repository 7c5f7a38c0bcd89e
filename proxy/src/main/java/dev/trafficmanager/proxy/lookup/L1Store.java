package dev.trafficmanager.proxy.lookup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
    private static final int AVERAGE_VALUE_BYTES = 18 + 2 + 48;
    private static final String NAME = "tm-routes";
    /** How many entries of an existing file are checked for the current entry format when it opens. */
    private static final int FORMAT_SAMPLE = 64;
    /** How long the writer waits for an entry's lock before it gives up on the write. */
    static final long WRITE_LOCK_WAIT_MILLIS = 200;

    private static final String LOCK_TIMEOUT_PROPERTY = "net.openhft.chronicle.map.lockTimeoutSeconds";

    static {
        // Chronicle's own lock waits (iteration, close) default to 60 s, far past what any caller
        // of a route cache can afford; read before the first map is made, so set it here.
        if (System.getProperty(LOCK_TIMEOUT_PROPERTY) == null) {
            System.setProperty(LOCK_TIMEOUT_PROPERTY, "2");
        }
    }

    private final ChronicleMap<CharSequence, byte[]> map;
    private final L1Changes changes;
    private volatile Runnable onInvalid = () -> { };
    private volatile Runnable onBusy = () -> { };

    private L1Store(ChronicleMap<CharSequence, byte[]> map, Path file) {
        this.map = map;
        this.changes = L1Changes.open(file);
    }

    /**
     * Opens the map file, creating it (and its folder, mode 0700, see {@link L1Directory}) when
     * absent. An existing file keeps the sizing it was created with; {@code maxEntries} applies
     * only to a new file. A file that does not open as this layout (corrupt, truncated, another
     * map's) is moved aside with a timestamp and a new one created: L1 is a cache, and a sidecar
     * that cannot start would take every pod sharing the file down with it.
     */
    public static L1Store open(Path file, int maxEntries) {
        Path absolute = file.toAbsolutePath();
        L1Directory.prepare(absolute.getParent());
        try {
            L1Header.check(absolute);
            return new L1Store(openLayout(absolute, maxEntries), absolute);
        } catch (IOException | RuntimeException | InternalError e) { // InternalError: a fault reading a mapped file
            L1Directory.moveAside(absolute, e);
        }
        try {
            return new L1Store(openLayout(absolute, maxEntries), absolute);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the L1 route file " + file, e);
        }
    }

    private static ChronicleMap<CharSequence, byte[]> openLayout(Path file, int maxEntries) throws IOException {
        ChronicleMap<CharSequence, byte[]> map = ChronicleMap.of(CharSequence.class, byte[].class)
                .name(NAME)
                .entries(maxEntries)
                .averageKey(AVERAGE_KEY)
                .averageValueSize(AVERAGE_VALUE_BYTES)
                .maxBloatFactor(2.0)
                .createPersistedTo(file.toFile());
        // An existing file keeps the layout it was made with, whatever the builder says.
        if (map.keyClass() != CharSequence.class || map.valueClass() != byte[].class) {
            String found = map.keyClass().getSimpleName() + " to " + map.valueClass().getSimpleName();
            map.close();
            throw new IllegalStateException("another layout: " + found + " (expected: CharSequence to byte[])");
        }
        String foreign = foreignEntry(map);
        if (foreign != null) {
            map.close();
            throw new IllegalStateException("entries of another format (" + foreign + "): a file of an earlier release");
        }
        return map;
    }

    /**
     * An entry among the first {@link #FORMAT_SAMPLE} whose value is not of {@link EntryCodec}'s
     * format, described; null when all are. The header does not tell (Chronicle keeps no name or
     * version of ours in it), so the values do: a file of the release before format 2 is rebuilt
     * from Kafka, like a corrupt one, instead of every entry reading as invalid. An existing empty
     * file, or one whose sample cannot be read, is kept.
     */
    private static String foreignEntry(ChronicleMap<CharSequence, byte[]> map) {
        int seen = 0;
        try {
            for (Map.Entry<CharSequence, byte[]> entry : map.entrySet()) {
                if (!EntryCodec.isCurrentFormat(entry.getValue())) {
                    byte[] value = entry.getValue();
                    return entry.getKey() + " in format " + (value.length == 0 ? "none" : String.valueOf(value[0]));
                }
                if (++seen == FORMAT_SAMPLE) {
                    break;
                }
            }
        } catch (RuntimeException e) {
            // A segment locked past Chronicle's lock timeout (a process that died holding it): no
            // finding. Only entries seen in another format move a file other processes use aside.
        }
        return null;
    }

    /**
     * The entry for {@code key}, or null; an entry that does not decode (a corrupt or forged value)
     * is null too, reported to {@link #onInvalid}. {@code keyString} must be {@code key.toString()}.
     */
    RouteEntry get(CharSequence key, String keyString) {
        byte[] bytes;
        try (ExternalMapQueryContext<CharSequence, byte[], ?> context = map.queryContext(key)) {
            // Never wait for a lock: a process that died holding it would stall this thread for
            // Chronicle's lock timeout. A busy segment reads as a miss, looked up elsewhere.
            if (!context.readLock().tryLock()) {
                onBusy.run();
                return null;
            }
            MapEntry<CharSequence, byte[]> present = context.entry();
            bytes = present == null ? null : present.value().get();
        }
        if (bytes == null) {
            return null;
        }
        RouteEntry entry = EntryCodec.decode(keyString, bytes, bytes.length);
        if (entry == null) {
            onInvalid.run();
        }
        return entry;
    }

    /** What to run when a stored entry does not decode, and when a read finds its segment locked. */
    void listen(Runnable onInvalid, Runnable onBusy) {
        this.onInvalid = onInvalid;
        this.onBusy = onBusy;
    }

    /**
     * Stores {@code entry} unless the stored one supersedes it (an older revision never overwrites
     * a newer one), atomically across processes. Returns whether it was stored. Only the writer
     * thread (and benchmarks) call it: it may wait for a lock another process holds.
     */
    public boolean apply(RouteEntry entry) {
        return apply(entry, RouteEntry.NOT_ASKED, 0);
    }

    /** The same for PostgreSQL's answer to a question asked at {@code askedAt}, at {@code now} ({@link RouteEntry#replaces}). */
    boolean apply(RouteEntry entry, long askedAt, long now) {
        try {
            return write(entry, askedAt, now);
        } catch (IllegalStateException e) {
            if (String.valueOf(e.getMessage()).contains("extra segment tier")) {
                throw new Full(entry.key(), size());
            }
            throw e;
        }
    }

    private boolean write(RouteEntry entry, long askedAt, long now) {
        try (ExternalMapQueryContext<CharSequence, byte[], ?> context = map.queryContext(entry.key())) {
            lock(context, entry.key());
            MapEntry<CharSequence, byte[]> present = context.entry();
            byte[] encoded = EntryCodec.encode(entry);
            if (present == null) {
                context.absentEntry().doInsert(context.wrapValueAsData(encoded));
                changes.bump();
                return true;
            }
            byte[] stored = present.value().get();
            if (!EntryCodec.replaces(entry, stored, askedAt, now)) {
                return false;
            }
            present.doReplaceValue(context.wrapValueAsData(encoded));
            if (!EntryCodec.sameRoute(encoded, stored)) {
                changes.bump(); // a new confirmation time alone changes nothing a reader routes by
            }
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
                lock(context, key);
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

    /**
     * Takes the entry's update lock, waiting at most {@link #WRITE_LOCK_WAIT_MILLIS}: our own
     * holders keep it for microseconds, so a longer wait means a holder that died.
     */
    private static void lock(ExternalMapQueryContext<CharSequence, byte[], ?> context, String key) {
        boolean locked;
        try {
            locked = context.updateLock().tryLock(WRITE_LOCK_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            locked = false;
        }
        if (!locked) {
            throw new LockedSegment(key);
        }
    }

    /** The segment of a key stayed locked past the wait: a process probably died holding its lock. */
    static final class LockedSegment extends RuntimeException {
        LockedSegment(String key) {
            super("the L1 segment of " + key + " stayed locked for " + WRITE_LOCK_WAIT_MILLIS
                    + " ms: a process sharing the file probably died holding its lock", null, false, false);
        }
    }

    /** L1 has no room left for a new key: its file was sized for fewer routes ({@code TM_L1_MAX_ENTRIES}). */
    static final class Full extends RuntimeException {
        Full(String key, long entries) {
            super("L1 is full at " + entries + " entries (no room for " + key + "): routes not in it are looked up in "
                    + "Redis and PostgreSQL (or the node agent) instead. TM_L1_MAX_ENTRIES sizes a new file; "
                    + "see the README's sizing rule", null, false, false);
        }
    }

    /** The room left in the file, in percent (the file's own figure). */
    public double freePercent() {
        return map.percentageFreeSpace();
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

    /** The change counter: it moves after every write that changes what a key routes to ({@link L1Changes}). */
    long changes() {
        return changes.get();
    }

    public long size() {
        return map.longSize();
    }

    @Override
    public void close() {
        map.close();
    }
}
