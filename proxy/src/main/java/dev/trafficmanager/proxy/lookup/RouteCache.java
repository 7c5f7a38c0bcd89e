package dev.trafficmanager.proxy.lookup;

import java.util.concurrent.CompletionStage;

/** L2: a shared cache of route entries (Redis). Implementations never block the caller. */
public interface RouteCache extends AutoCloseable {

    /**
     * The cached entry, null when the cache has none; fails when the cache cannot answer, and with
     * {@link InvalidEntry} when what it holds is not a valid entry.
     */
    CompletionStage<RouteEntry> get(String key);

    /** The cache holds a value for the key that is not a valid entry: a miss, counted. No stack trace. */
    final class InvalidEntry extends RuntimeException {
        public InvalidEntry(String key) {
            super("invalid cached entry for " + key, null, false, false);
        }
    }

    /** Caches {@code entry} for {@code ttlMillis}; best effort. */
    void put(RouteEntry entry, long ttlMillis);

    /** Drops the key, so the next miss reads the source of truth; best effort. */
    void delete(String key);

    @Override
    void close();

    /** No L2 at all: every get is a miss. */
    RouteCache NONE = new RouteCache() {
        @Override
        public CompletionStage<RouteEntry> get(String key) {
            return java.util.concurrent.CompletableFuture.completedFuture(null);
        }

        @Override
        public void put(RouteEntry entry, long ttlMillis) {
        }

        @Override
        public void delete(String key) {
        }

        @Override
        public void close() {
        }
    };
}
