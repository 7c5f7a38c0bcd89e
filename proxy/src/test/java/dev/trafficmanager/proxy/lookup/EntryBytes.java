package dev.trafficmanager.proxy.lookup;

/** A route entry's bytes as Redis and L1 hold them, for tests that plant values in a real cache. */
public final class EntryBytes {
    private EntryBytes() {
    }

    public static byte[] of(String key, String url, long revision, long fetchedAtMillis) {
        return EntryCodec.encode(RouteEntry.found(key, url, true, revision, fetchedAtMillis));
    }
}
