package dev.trafficmanager.controlapi.auth;

import dev.trafficmanager.controlapi.http.ApiException;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Failed authentications per client: once a client has failed {@code limit} times within a
 * window, its failing requests get 429 instead of 401 until the window ends (and cost nothing
 * more), so tokens cannot be guessed at speed. Tracks at most {@link #MAX_TRACKED} clients:
 * expired windows are swept out when that is reached, and if all are current, the oldest go.
 * Thread-safe.
 */
final class AuthFailures {
    private static final Logger log = LoggerFactory.getLogger(AuthFailures.class);
    static final int MAX_TRACKED = 100_000;

    private record Window(long startMillis, int failures) {
    }

    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();
    private final int limit;
    private final long windowMillis;
    private final LongSupplier clock;

    AuthFailures(int limit, long windowMillis, LongSupplier clock) {
        this.limit = limit;
        this.windowMillis = windowMillis;
        this.clock = clock;
    }

    /** Throws 429 when {@code client} has used up its failures for the current window. */
    void checkAllowed(String client) {
        Window window = windows.get(client);
        long now = clock.getAsLong();
        if (window != null && window.failures() >= limit && now - window.startMillis() < windowMillis) {
            long retryAfter = Math.max(1, (window.startMillis() + windowMillis - now + 999) / 1000);
            throw new ApiException(HttpResponseStatus.TOO_MANY_REQUESTS, "too_many_auth_failures",
                    limit + " failed authentications from " + client + " within " + windowMillis / 1000
                            + " s; try again in " + retryAfter + " s")
                    .withHeader("Retry-After", String.valueOf(retryAfter));
        }
    }

    void failed(String client) {
        long now = clock.getAsLong();
        Window window = windows.compute(client, (key, old) -> old == null || now - old.startMillis() >= windowMillis
                ? new Window(now, 1) : new Window(old.startMillis(), old.failures() + 1));
        if (window.failures() == limit) {
            // Never the token: only where the failures came from.
            log.warn("{} failed authentications from {} within {} s: refusing its requests until {} s after the first",
                    limit, client, windowMillis / 1000, windowMillis / 1000);
        }
        if (windows.size() > MAX_TRACKED) {
            windows.values().removeIf(expired -> now - expired.startMillis() >= windowMillis);
            if (windows.size() > MAX_TRACKED) {
                // Every window current: an attack from many addresses. Bounded memory wins over
                // the oldest windows' counts (an attacker with that many addresses has other ways).
                long cutoff = now - windowMillis / 2;
                windows.values().removeIf(old -> old.startMillis() < cutoff);
                if (windows.size() > MAX_TRACKED) {
                    windows.clear();
                }
            }
        }
    }

    /** How many clients are tracked. */
    int tracked() {
        return windows.size();
    }
}
