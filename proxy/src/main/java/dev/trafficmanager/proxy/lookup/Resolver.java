package dev.trafficmanager.proxy.lookup;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Result;
import dev.trafficmanager.proxy.metrics.ProxyMetrics.Tier;
import dev.trafficmanager.proxy.resilience.CircuitBreaker;
import dev.trafficmanager.route.ChangeEvent;
import dev.trafficmanager.route.RouteEvent;
import dev.trafficmanager.route.SplitEvent;
import dev.trafficmanager.route.SplitKey;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves route keys through the tiers: the near cache and L1 on the caller's thread, then, on a
 * miss or an expired entry, Redis and PostgreSQL asynchronously with one lookup in flight per key
 * however many requests wait for it.
 *
 * <p>Freshness: an entry was confirmed by a source of truth at its fetch time (Kafka events confirm
 * too). It is used as is until {@code refreshAheadPercent} of its TTL (60 s for routes, 10 s for
 * unknown or inactive ones), then used while a background lookup refreshes it, and once older than
 * its TTL it is re-confirmed before use. When no tier can confirm it, the last known entry is used
 * anyway (stale-if-error, counted); a key with no entry at all then fails with
 * {@link LookupUnavailableException}.
 *
 * <p>Redis and PostgreSQL each sit behind a {@link CircuitBreaker}: while Redis's is open lookups go
 * straight to PostgreSQL (a hung Redis no longer costs each lookup its timeout), and while
 * PostgreSQL's is open a lookup fails at once, so a known route is served stale and an unknown one
 * gets its 503 without waiting.
 *
 * <p>A sidecar in node mode reads an L1 file a node agent writes: it has no writer, its source of
 * truth is the agent ({@link RouteSource#tier()}), and its near cache follows L1's change counter.
 */
public final class Resolver {
    private static final Logger log = LoggerFactory.getLogger(Resolver.class);

    /** An answer and the tier that gave it; {@code stale} when no tier could confirm it. */
    public record Resolution(RouteEntry entry, Tier tier, boolean stale) {
        public long ageMillis(long now) {
            return Math.max(0, now - entry.fetchedAtMillis());
        }
    }

    /** No tier could answer and nothing was cached. Without a stack trace: it is an outcome. */
    public static final class LookupUnavailableException extends RuntimeException {
        LookupUnavailableException(String message) {
            super(message, null, false, false);
        }
    }

    private final NearCache near;
    private final L1Store l1;
    private final L1Writer writer;
    private final RouteCache redis;
    private final RouteSource postgres;
    private final ProxyMetrics metrics;
    private final LongSupplier clock;
    private final long positiveTtl;
    private final long negativeTtl;
    private final long positiveRefreshAt;
    private final long negativeRefreshAt;
    private final long timeoutMillis;
    private final GuardedTier fromRedis;
    private final GuardedTier fromPostgres;
    private final Tier sourceTier;
    private final ConcurrentHashMap<String, CompletableFuture<Resolution>> inflight = new ConcurrentHashMap<>();
    private final LastKnown lastKnown;
    /** False after a lookup no tier could answer, true again after one succeeds. */
    private volatile boolean sourcesAnswering = true;

    public Resolver(L1Store l1, int nearCacheEntries, RouteCache redis, RouteSource postgres,
                    ProxyConfig.Lookup settings, ProxyMetrics metrics, LongSupplier clock) {
        this(l1, true, nearCacheEntries, redis, postgres, settings, metrics, clock);
    }

    /** {@code writesL1}: false in a sidecar in node mode, where the agent alone writes L1. */
    public Resolver(L1Store l1, boolean writesL1, int nearCacheEntries, RouteCache redis, RouteSource postgres,
                    ProxyConfig.Lookup settings, ProxyMetrics metrics, LongSupplier clock) {
        this.near = writesL1 ? new NearCache(nearCacheEntries) : new NearCache(nearCacheEntries, l1::changes);
        this.l1 = l1;
        this.redis = redis;
        this.postgres = postgres;
        this.metrics = metrics;
        this.clock = clock;
        this.positiveTtl = settings.positiveTtl().toMillis();
        this.negativeTtl = settings.negativeTtl().toMillis();
        this.positiveRefreshAt = positiveTtl * settings.refreshAheadPercent() / 100;
        this.negativeRefreshAt = negativeTtl * settings.refreshAheadPercent() / 100;
        this.timeoutMillis = settings.timeout().toMillis();
        this.fromRedis = new GuardedTier("redis", settings, clock, metrics, redis::get);
        this.fromPostgres = new GuardedTier(postgres.tier().name().toLowerCase(java.util.Locale.ROOT), settings, clock,
                metrics, postgres::fetch);
        this.sourceTier = postgres.tier();
        this.writer = writesL1 ? new L1Writer(l1, near, redis::delete, metrics, clock, negativeTtl) : null;
        this.lastKnown = new LastKnown(near, key -> fromL1(key, key, clock.getAsLong()), metrics, timeoutMillis);
        l1.listen(metrics.invalidEntries(Tier.L1)::increment, metrics.l1LockBusy()::increment);
        metrics.gauge("tm_l1_entries", "entries in the L1 file", l1::size);
        metrics.gauge("tm_near_cache_entries", "entries in the on-heap copy of L1", near::size);
        metrics.gauge("tm_route_lookups_in_flight", "keys being looked up in Redis or PostgreSQL", inflight::size);
    }

    /**
     * The fast path, on an event loop: an entry that may be used now, or null when the caller must
     * wait for {@link #resolve(String)}. Allocates nothing when the near cache holds the key.
     */
    public RouteEntry cached(RouteKeyProbe probe) {
        Tier tier = Tier.NEAR;
        long mark = near.mark();
        RouteEntry entry = near.get(probe);
        long now = clock.getAsLong();
        if (entry == null) {
            tier = Tier.L1;
            entry = fromL1(probe, null, now);
            if (entry == null) {
                metrics.lookup(Tier.L1, Result.MISS);
                return null;
            }
            near.offer(entry, RouteEntry.NOT_ASKED, 0, mark);
        }
        long age = now - entry.fetchedAtMillis();
        boolean positive = entry.active();
        boolean longLived = longLived(entry);
        boolean expired = age >= (longLived ? positiveTtl : negativeTtl);
        if (expired && sourcesAnswering) {
            return null; // re-confirm before use
        }
        if (age >= (longLived ? positiveRefreshAt : negativeRefreshAt)) {
            refreshInBackground(entry.key());
            if (expired) {
                // The last lookup found every tier down: do not make this request wait for another.
                metrics.staleServes().increment();
            }
        }
        metrics.lookup(tier, positive ? Result.HIT : Result.NEGATIVE);
        probe.cached(tier, expired);
        return entry;
    }

    /**
     * Looks {@code key} up in Redis, then PostgreSQL, completing on a lettuce or database thread
     * (callers hop back to their event loop). Fails with {@link LookupUnavailableException} when no
     * tier answers within the lookup timeout and nothing is cached for the key.
     */
    public CompletableFuture<Resolution> resolve(String key) {
        return lookup(key).handle((resolution, error) -> error == null ? CompletableFuture.completedFuture(resolution)
                : lastKnown.serve(key, error)).thenCompose(answer -> answer);
    }

    /** Why a lookup failed, in a few words (its cause's message). */
    public static String describe(Throwable error) {
        Throwable cause = GuardedTier.unwrap(error);
        return cause.getMessage() != null ? cause.getMessage() : cause.toString();
    }

    /** For the admin port: the tier that answers now, going to Redis and PostgreSQL only if needed. */
    public CompletableFuture<Resolution> resolveVerbose(RouteKeyProbe probe) {
        RouteEntry nearEntry = near.get(probe);
        RouteEntry entry = cached(probe);
        if (entry != null) {
            return CompletableFuture.completedFuture(new Resolution(entry, nearEntry == entry ? Tier.NEAR : Tier.L1, false));
        }
        return resolve(probe.toString());
    }

    /** The near cache's or L1's entry for {@code key}, however old; null when neither has one. */
    public RouteEntry entry(String key) {
        RouteEntry entry = near.get(key);
        return entry != null ? entry : fromL1(key, key, clock.getAsLong());
    }

    /**
     * L1's entry for {@code key} ({@code keyString} its string, or null to make it), or null; an
     * entry claiming a confirmation in the future is refused as invalid (counted), like one that
     * does not decode.
     */
    private RouteEntry fromL1(CharSequence key, String keyString, long now) {
        RouteEntry entry = l1.get(key, keyString != null ? keyString : key.toString());
        if (entry != null && entry.fromTheFuture(now)) {
            metrics.invalidEntries(Tier.L1).increment();
            return null;
        }
        return entry;
    }

    /**
     * Applies a route's or a split's event to L1 (and the near cache, and for a {@code live} one, read after catching
     * up, drops the key from Redis) on the writer thread, waiting for room in its queue. Returns a
     * sequence number for {@link #eventsDone()}.
     */
    public long applyEvent(ChangeEvent event, boolean live) throws InterruptedException {
        if (writer == null) {
            throw new IllegalStateException("a sidecar in node mode applies no route events: its agent does");
        }
        String key = event.keyString();
        long now = clock.getAsLong();
        return writer.event(event instanceof RouteEvent route
                ? RouteEntry.found(key, route.url(), route.active(), route.revision(), now, route.protocol(), route.options())
                : RouteEntry.split(key, ((SplitEvent) event).split(), event.active(), event.revision(), now), live);
    }

    /** How many applied events L1 holds; compare with {@link #applyEvent}'s sequence numbers. */
    public long eventsDone() {
        return writer == null ? 0 : writer.eventsDone();
    }

    public L1Store l1() {
        return l1;
    }

    public long now() {
        return clock.getAsLong();
    }

    private void refreshInBackground(String key) {
        if (!inflight.containsKey(key)) {
            lookup(key);
        }
    }

    /**
     * The key's lookup in flight, or a new one. The shared lookup ends only when its fetch does
     * (each tier bounds its own time), so there is one per key however long a tier takes; each
     * caller waits at most the lookup timeout on a copy of its own.
     */
    private CompletableFuture<Resolution> lookup(String key) {
        CompletableFuture<Resolution> running = inflight.get(key);
        if (running == null) {
            CompletableFuture<Resolution> mine = new CompletableFuture<>();
            running = inflight.putIfAbsent(key, mine);
            if (running == null) {
                mine.whenComplete((r, e) -> inflight.remove(key, mine));
                fetch(key).whenComplete((resolution, error) -> {
                    sourcesAnswering = error == null;
                    if (error == null) {
                        mine.complete(resolution);
                    } else {
                        mine.completeExceptionally(error);
                    }
                });
                running = mine;
            } else {
                metrics.lookupWaits().increment();
            }
        } else {
            metrics.lookupWaits().increment();
        }
        CompletableFuture<Resolution> waiter = running.copy().orTimeout(timeoutMillis, TimeUnit.MILLISECONDS);
        waiter.whenComplete((r, e) -> {
            if (e instanceof TimeoutException) {
                sourcesAnswering = false;
            }
        });
        return waiter;
    }

    private CompletionStage<Resolution> fetch(String key) {
        long mark = near.mark(); // before asking: an answer L1 has overtaken since is not kept in the near cache
        return fromRedis.get(key).handle((cached, error) -> {
            if (redis == RouteCache.NONE || fromRedis.refused(error)) { // no Redis tier: nothing to count
                return null;
            }
            if (GuardedTier.unwrap(error) instanceof RouteCache.InvalidEntry || cached != null && cached.fromTheFuture(clock.getAsLong())) {
                // A corrupt or forged value: never trusted, PostgreSQL answers (and overwrites it).
                metrics.invalidEntries(Tier.REDIS).increment();
                metrics.lookup(Tier.REDIS, Result.MISS);
                return null;
            }
            if (error != null) {
                metrics.lookup(Tier.REDIS, Result.ERROR);
                return null;
            }
            if (cached == null || isDueForRefresh(cached)) {
                // An entry close to its TTL would not help: confirm with PostgreSQL.
                metrics.lookup(Tier.REDIS, Result.MISS);
                return null;
            }
            metrics.lookup(Tier.REDIS, cached.active() ? Result.HIT : Result.NEGATIVE);
            return cached;
        }).thenCompose(cached -> {
            if (cached != null) {
                return CompletableFuture.completedFuture(new Resolution(store(cached, RouteEntry.NOT_ASKED, mark), Tier.REDIS, false));
            }
            long askedAt = clock.getAsLong();
            return fromPostgres.get(key).handle((fromDb, error) -> {
                if (fromPostgres.refused(error)) {
                    throw new LookupUnavailableException(sourceName() + " lookup of " + key + " refused: its circuit breaker is open");
                }
                if (error != null) {
                    metrics.lookup(sourceTier, Result.ERROR);
                    logFailure(key, error);
                    throw new LookupUnavailableException(sourceName() + " lookup of " + key + " failed: "
                            + GuardedTier.unwrap(error).getMessage());
                }
                metrics.lookup(sourceTier, fromDb.active() ? Result.HIT : Result.NEGATIVE);
                redis.put(fromDb, longLived(fromDb) ? positiveTtl : negativeTtl);
                return new Resolution(store(fromDb, askedAt, mark), sourceTier, false);
            });
        });
    }

    private String sourceName() {
        return sourceTier == Tier.AGENT ? "node agent" : "PostgreSQL";
    }

    /** A failed source lookup: an outage at debug (the breaker logs it), anything unexpected loudly. */
    private static void logFailure(String key, Throwable error) {
        Throwable cause = GuardedTier.unwrap(error);
        if (cause instanceof java.sql.SQLException || cause instanceof IllegalStateException
                || cause instanceof java.io.IOException) {
            log.debug("PostgreSQL lookup of {} failed: {}", key, cause.toString());
        } else {
            log.error("PostgreSQL lookup of {} failed unexpectedly", key, cause);
        }
    }

    public CircuitBreaker.State redisBreaker() {
        return fromRedis.state();
    }

    public CircuitBreaker.State postgresBreaker() {
        return fromPostgres.state();
    }

    private boolean isDueForRefresh(RouteEntry entry) {
        long age = clock.getAsLong() - entry.fetchedAtMillis();
        return age >= (longLived(entry) ? positiveRefreshAt : negativeRefreshAt);
    }

    /**
     * Whether the entry keeps the positive TTL: an active route, and any split key's entry, a split's
     * absence too. Most services have no split, and every request that names no version asks for it:
     * a short negative TTL would send that question to PostgreSQL every few seconds per service,
     * where a new split reaches L1 by its event at once.
     */
    private static boolean longLived(RouteEntry entry) {
        return entry.active() || entry.split() != null || !entry.exists() && SplitKey.isSplitKey(entry.key());
    }

    /**
     * Puts a looked-up entry in the near cache now and in L1 through the writer, unless a cache
     * holds an entry it may not replace ({@link RouteEntry#replaces}: a newer revision, unless
     * {@code entry} is PostgreSQL's answer to a question asked at {@code askedAt} and nothing
     * confirmed the cached one since): then that one is used. PostgreSQL's answer replacing a
     * higher revision is a regression: a forged or corrupt cache value, or a database restored
     * from a backup; counted and logged.
     */
    private RouteEntry store(RouteEntry entry, long askedAt, long mark) {
        String key = entry.key();
        long now = clock.getAsLong();
        RouteEntry inNear = near.get(key);
        RouteEntry inL1 = fromL1(key, key, now);
        RouteEntry current = inNear == null || inL1 != null && inL1.revision() > inNear.revision() ? inL1 : inNear;
        if (current != null && !entry.replaces(current.revision(), current.fetchedAtMillis(), askedAt, now)) {
            near.offer(current, RouteEntry.NOT_ASKED, 0, mark);
            return current;
        }
        if (current != null && current.revision() > entry.revision()) {
            metrics.revisionRegressions().increment();
            log.warn("route {}: PostgreSQL answered revision {} ({}), replacing revision {} ({}) a cache held: "
                    + "a forged or corrupt cache value, or a restored database", key, entry.revision(),
                    entry.exists() ? entry.url() : "absent", current.revision(), current.url());
        }
        near.offer(entry, askedAt, now, mark);
        if (writer != null) {
            writer.fill(entry, askedAt);
        }
        RouteEntry winner = near.get(key);
        return winner != null && winner.supersedes(entry) ? winner : entry;
    }

    /** Why a background thread of the lookup stopped on its own (the L1 writer), or null. */
    public String failure() {
        return writer == null ? null : writer.failure();
    }

    /** Stops the L1 writer; returns whether it stopped (only then may L1 be closed). */
    public boolean close() {
        return writer == null || writer.close();
    }
}
