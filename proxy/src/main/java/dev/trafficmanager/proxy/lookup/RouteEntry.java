package dev.trafficmanager.proxy.lookup;

import dev.trafficmanager.proxy.upstream.UpstreamTarget;
import dev.trafficmanager.route.Endpoint;
import dev.trafficmanager.route.RouteOptions;
import dev.trafficmanager.route.RouteProtocol;
import dev.trafficmanager.route.Split;
import java.util.List;

/**
 * What a cache tier knows about one key: a route's url, options, active flag and revision; or,
 * for a split key ({@code tenant/service/env}), a split's weights; or that neither exists (a
 * negative entry, revision 0), with the time a source of truth last confirmed it. Immutable, so
 * event loops read it without locks.
 */
public final class RouteEntry {
    /** {@link #replaces}'s {@code askedAt} for an entry that is not PostgreSQL's answer. */
    public static final long NOT_ASKED = Long.MIN_VALUE;
    /**
     * How far in the future a confirmation time may lie (the clocks of the nodes that wrote Redis
     * and L1 differ a little); later, the entry is invalid.
     */
    public static final long MAX_SKEW_MILLIS = 5_000;

    private final String key;
    private final String url;
    private final boolean active;
    private final long revision;
    private final long fetchedAtMillis;
    private final RouteProtocol protocol;
    private final RouteOptions options;
    private final Split split;
    private final UpstreamTarget target;
    private final List<UpstreamTarget> endpoints;

    private RouteEntry(String key, String url, boolean active, long revision, long fetchedAtMillis, RouteProtocol protocol,
                       RouteOptions options, Split split) {
        this.key = key;
        this.url = url;
        this.active = active;
        this.revision = revision;
        this.fetchedAtMillis = fetchedAtMillis;
        this.protocol = protocol;
        this.options = options;
        this.split = split;
        UpstreamTarget parsed = url == null ? null : UpstreamTarget.parse(url, protocol);
        this.target = active ? parsed : null;
        this.endpoints = active && options.endpoints().size() > 1 ? endpointTargets(parsed, options, protocol) : List.of();
    }

    /** The endpoints' targets: the first is the route's own URL's, parsed once. */
    private static List<UpstreamTarget> endpointTargets(UpstreamTarget first, RouteOptions options, RouteProtocol protocol) {
        List<UpstreamTarget> targets = new java.util.ArrayList<>(options.endpoints().size());
        targets.add(first);
        for (int i = 1; i < options.endpoints().size(); i++) {
            targets.add(UpstreamTarget.parse(options.endpoints().get(i).url(), protocol));
        }
        return List.copyOf(targets);
    }

    /**
     * A route that exists, active or not. Throws {@link IllegalArgumentException} for a revision
     * below 1 or a URL that breaks the route model's rules, whichever tier the values came from.
     */
    public static RouteEntry found(String key, String url, boolean active, long revision, long fetchedAtMillis,
                                   RouteProtocol protocol, RouteOptions options) {
        if (revision < 1 || url == null || protocol == null || options == null) {
            throw new IllegalArgumentException("route " + key + ": revision " + revision + " (expected: >= 1 with a url)");
        }
        if (!options.urlOr(url).equals(url)) {
            throw new IllegalArgumentException("route " + key + ": url " + url + " is not its first endpoint's");
        }
        return new RouteEntry(key, url, active, revision, fetchedAtMillis, protocol, options, null);
    }

    /** The same without options. */
    public static RouteEntry found(String key, String url, boolean active, long revision, long fetchedAtMillis,
                                   RouteProtocol protocol) {
        return found(key, url, active, revision, fetchedAtMillis, protocol, RouteOptions.NONE);
    }

    /** A split that exists, deleted ({@code active} false) or not. */
    public static RouteEntry split(String key, Split split, boolean active, long revision, long fetchedAtMillis) {
        if (revision < 1 || split == null) {
            throw new IllegalArgumentException("split " + key + ": revision " + revision + " (expected: >= 1 with weights)");
        }
        return new RouteEntry(key, null, active, revision, fetchedAtMillis, RouteProtocol.AUTO, RouteOptions.NONE, split);
    }

    /** The same with the default protocol. */
    public static RouteEntry found(String key, String url, boolean active, long revision, long fetchedAtMillis) {
        return found(key, url, active, revision, fetchedAtMillis, RouteProtocol.AUTO);
    }

    /** A route that no source knows: a negative entry. */
    public static RouteEntry absent(String key, long fetchedAtMillis) {
        return new RouteEntry(key, null, false, 0, fetchedAtMillis, RouteProtocol.AUTO, RouteOptions.NONE, null);
    }

    /**
     * Whether this entry should replace {@code other} for the same key: a higher revision always
     * wins, so an older revision never overwrites a newer one; the same revision only refreshes the
     * confirmation time.
     */
    public boolean supersedes(RouteEntry other) {
        return other == null || replaces(other.revision, other.fetchedAtMillis, NOT_ASKED, 0);
    }

    /**
     * Whether this entry should replace a stored one with {@code storedRevision} confirmed at
     * {@code storedFetchedAt}. {@code askedAt} is when PostgreSQL, the source of truth, was asked
     * for this entry, or {@link #NOT_ASKED} for a cache's answer or an event; {@code now} the time
     * (only used then). PostgreSQL's answer replaces whatever is stored, a higher revision too (a
     * forged or corrupt cache value must not pin a route), unless the stored entry was confirmed
     * after the question was asked and not in the future: an event (or a later lookup) that
     * overtook this one.
     */
    public boolean replaces(long storedRevision, long storedFetchedAt, long askedAt, long now) {
        if (revision > storedRevision || revision == storedRevision && fetchedAtMillis > storedFetchedAt) {
            return true;
        }
        return askedAt != NOT_ASKED && !(storedFetchedAt > askedAt && storedFetchedAt <= now + MAX_SKEW_MILLIS);
    }

    /** Whether this entry claims a confirmation later than {@code now} plus the allowed clock skew. */
    public boolean fromTheFuture(long now) {
        return fetchedAtMillis > now + MAX_SKEW_MILLIS;
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

    /** The protocol the route pins for its upstream, or {@link RouteProtocol#AUTO}. */
    public RouteProtocol protocol() {
        return protocol;
    }

    /** Where to forward; null unless the route is active. With endpoints: the first one. */
    public UpstreamTarget target() {
        return target;
    }

    /** The endpoints' targets, in {@link RouteOptions#endpoints()} order, when an active route lists more than one; else empty. */
    public List<UpstreamTarget> endpointTargets() {
        return endpoints;
    }

    /** The endpoints' weights, in the same order. */
    public List<Endpoint> endpoints() {
        return options.endpoints();
    }

    /** Endpoints, timeout and retries; {@link RouteOptions#NONE} for a split or a negative entry. */
    public RouteOptions options() {
        return options;
    }

    /** The split of a split key's entry, deleted or not; null for a route or a negative entry. */
    public Split split() {
        return split;
    }

    @Override
    public String toString() {
        if (split != null) {
            return key + " split " + split.weights() + (active ? "" : " (deleted)") + " rev " + revision;
        }
        return key + (exists() ? " -> " + url + (protocol == RouteProtocol.AUTO ? "" : " (" + protocol.wireName() + ")")
                + (active ? "" : " (inactive)") + " rev " + revision : " (absent)");
    }
}
