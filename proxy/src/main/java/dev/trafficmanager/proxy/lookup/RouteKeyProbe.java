package dev.trafficmanager.proxy.lookup;

import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.route.RouteKey;
import dev.trafficmanager.route.SplitKey;

/**
 * A route key assembled from a request's headers without building a string: it reads as the
 * canonical {@code tenant/service/env/version} text (or, set without a version, as the split key
 * {@code tenant/service/env}), hashes like that {@link String}, and equals
 * any {@link CharSequence} with the same characters. So it can look up a map keyed by the canonical
 * strings (the near cache) and be written as a Chronicle Map key without allocating.
 *
 * <p>Mutable and not thread-safe: each connection handler owns one and refills it per request.
 */
public final class RouteKeyProbe implements CharSequence {
    private final CharSequence[] parts = new CharSequence[4];
    private int count;
    private int length;
    private int hash;
    private ProxyMetrics.Tier cachedTier; // which cache answered the last lookup of it on the event loop
    private boolean cachedStale; // and whether it served an expired entry (no tier could confirm it)

    /** Sets the key; a null {@code version} makes it the split key of the service's env. */
    public RouteKeyProbe set(CharSequence tenant, CharSequence service, CharSequence env, CharSequence version) {
        parts[0] = tenant;
        parts[1] = service;
        parts[2] = env;
        parts[3] = version;
        count = version == null ? 3 : 4;
        int h = 0;
        int n = 0;
        for (int p = 0; p < count; p++) {
            if (p > 0) {
                h = 31 * h + '/';
                n++;
            }
            CharSequence part = parts[p];
            for (int i = 0; i < part.length(); i++) {
                h = 31 * h + part.charAt(i);
            }
            n += part.length();
        }
        this.hash = h;
        this.length = n;
        return this;
    }

    /**
     * Sets the key from its string: a route key ({@code tenant/service/env/version}) or a split key
     * ({@code tenant/service/env}). Throws {@link dev.trafficmanager.route.InvalidRouteException} for
     * anything else.
     */
    public RouteKeyProbe setKey(String key) {
        if (SplitKey.isSplitKey(key)) {
            SplitKey split = SplitKey.parse(key);
            return set(split.tenant(), split.service(), split.env(), null);
        }
        RouteKey route = RouteKey.parse(key);
        return set(route.tenant(), route.service(), route.env(), route.version());
    }

    /** The cache that answered {@link Resolver#cached} for this probe last: near or L1. */
    public ProxyMetrics.Tier cachedTier() {
        return cachedTier;
    }

    /** Whether that answer was an expired entry, served because no tier could confirm it. */
    public boolean cachedStale() {
        return cachedStale;
    }

    void cached(ProxyMetrics.Tier tier, boolean stale) {
        cachedTier = tier;
        cachedStale = stale;
    }

    public CharSequence tenant() {
        return parts[0];
    }

    public CharSequence service() {
        return parts[1];
    }

    public CharSequence env() {
        return parts[2];
    }

    /** The version; null for a split key. */
    public CharSequence version() {
        return parts[3];
    }

    /** Whether this is a split key (no version). */
    public boolean isSplitKey() {
        return count == 3;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public char charAt(int index) {
        int i = index;
        for (int p = 0; p < count; p++) {
            CharSequence part = parts[p];
            if (i < part.length()) {
                return part.charAt(i);
            }
            i -= part.length();
            if (p < count - 1) {
                if (i == 0) {
                    return '/';
                }
                i--;
            }
        }
        throw new IndexOutOfBoundsException(index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return toString().subSequence(start, end);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof CharSequence text) || text.length() != length) {
            return false;
        }
        if (text instanceof String key) {
            return equalsKey(key);
        }
        int i = 0;
        for (int p = 0; p < count; p++) {
            if (p > 0 && text.charAt(i++) != '/') {
                return false;
            }
            CharSequence part = parts[p];
            for (int j = 0; j < part.length(); j++) {
                if (text.charAt(i++) != part.charAt(j)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The common case, a stored key string: compared part by part on the strings' own bytes. */
    private boolean equalsKey(String key) {
        int i = 0;
        for (int p = 0; p < count; p++) {
            CharSequence part = parts[p];
            int n = part.length();
            if (p > 0 && key.charAt(i++) != '/') {
                return false;
            }
            if (part instanceof String s ? !key.regionMatches(i, s, 0, n) : !contentEquals(key, i, part)) {
                return false;
            }
            i += n;
        }
        return true;
    }

    private static boolean contentEquals(String key, int offset, CharSequence part) {
        for (int j = 0; j < part.length(); j++) {
            if (key.charAt(offset + j) != part.charAt(j)) {
                return false;
            }
        }
        return true;
    }

    /** The canonical key; allocates, so only the miss path calls it. */
    @Override
    public String toString() {
        StringBuilder key = new StringBuilder(length).append(parts[0]).append('/').append(parts[1]).append('/')
                .append(parts[2]);
        return count == 4 ? key.append('/').append(parts[3]).toString() : key.toString();
    }
}
