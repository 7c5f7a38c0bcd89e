package dev.trafficmanager.proxy.lookup;

import dev.trafficmanager.proxy.upstream.UpstreamTarget;

/**
 * What a cache tier knows about one route key: the route's url, active flag and revision, or that
 * the route does not exist (a negative entry, revision 0), with the time a source of truth last
 * confirmed it. Immutable, so event loops read it without locks.
 */
public final class RouteEntry {
    private final String key;
    private final String url;
    private final boolean active;
    private final long revision;
    private final long fetchedAtMillis;
    private final UpstreamTarget target;

    private RouteEntry(String key, String url, boolean active, long revision, long fetchedAtMillis) {
        this.key = key;
        this.url = url;
        this.active = active;
        this.revision = revision;
        this.fetchedAtMillis = fetchedAtMillis;
        this.target = active ? UpstreamTarget.parse(url) : null;
    }

    /** A route that exists, active or not. */
    public static RouteEntry found(String key, String url, boolean active, long revision, long fetchedAtMillis) {
        if (revision < 1 || url == null) {
            throw new IllegalArgumentException("route " + key + ": revision " + revision + " (expected: >= 1 with a url)");
        }
        return new RouteEntry(key, url, active, revision, fetchedAtMillis);
    }

    /** A route that no source knows: a negative entry. */
    public static RouteEntry absent(String key, long fetchedAtMillis) {
        return new RouteEntry(key, null, false, 0, fetchedAtMillis);
    }

    /**
     * Whether this entry should replace {@code other} for the same key: a higher revision always
     * wins, so an older revision never overwrites a newer one; the same revision only refreshes the
     * confirmation time.
     */
    public boolean supersedes(RouteEntry other) {
        return other == null || revision > other.revision
                || revision == other.revision && fetchedAtMillis > other.fetchedAtMillis;
    }

    public String key() {
        return key;
    }

    /** The upstream URL, or null for a negative entry. */
    public String url() {
        return url;
    }

    public boolean active() {
        return active;
    }

    public boolean exists() {
        return revision > 0;
    }

    public long revision() {
        return revision;
    }

    public long fetchedAtMillis() {
        return fetchedAtMillis;
    }

    /** Where to forward; null unless the route is active. */
    public UpstreamTarget target() {
        return target;
    }

    @Override
    public String toString() {
        return key + (exists() ? " -> " + url + (active ? "" : " (inactive)") + " rev " + revision : " (absent)");
    }
}
