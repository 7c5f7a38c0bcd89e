package dev.trafficmanager.proxy.lookup;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/** Redis and PostgreSQL as resolver tests drive them, behind the project's own interfaces. */
final class FakeTiers {
    private FakeTiers() {
    }

    /** PostgreSQL: the route it holds (one url and revision for every key, or none), or a failure. */
    static final class Postgres implements RouteSource {
        private final LongSupplier clock;
        volatile String url = "http://a:8080/";
        volatile long revision = 1;
        volatile boolean down;
        final AtomicInteger queries = new AtomicInteger();

        Postgres(LongSupplier clock) {
            this.clock = clock;
        }

        @Override
        public CompletionStage<RouteEntry> fetch(String key) {
            queries.incrementAndGet();
            if (down) {
                return CompletableFuture.failedFuture(new IllegalStateException("down"));
            }
            return CompletableFuture.completedFuture(url == null ? RouteEntry.absent(key, clock.getAsLong())
                    : RouteEntry.found(key, url, true, revision, clock.getAsLong()));
        }

        @Override
        public void close() {
        }
    }

    /**
     * Redis: holds the encoded bytes a test or the resolver put there (so a test can plant any
     * bytes), or fails; counts the gets and records the deletes.
     */
    static class Redis implements RouteCache {
        volatile boolean down;
        final AtomicInteger gets = new AtomicInteger();
        final List<String> deleted = new CopyOnWriteArrayList<>();
        final Map<String, byte[]> values = new ConcurrentHashMap<>();

        @Override
        public CompletionStage<RouteEntry> get(String key) {
            gets.incrementAndGet();
            if (down) {
                return CompletableFuture.failedFuture(new IllegalStateException("Redis down"));
            }
            try {
                return CompletableFuture.completedFuture(EntryCodec.decodeCached(key, values.get(key)));
            } catch (InvalidEntry e) {
                return CompletableFuture.failedFuture(e);
            }
        }

        @Override
        public void put(RouteEntry entry, long ttlMillis) {
            values.put(entry.key(), EntryCodec.encode(entry));
        }

        @Override
        public void delete(String key) {
            deleted.add(key);
            values.remove(key);
        }

        @Override
        public void close() {
        }
    }
}
