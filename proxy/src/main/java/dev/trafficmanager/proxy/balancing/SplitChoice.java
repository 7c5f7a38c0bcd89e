package dev.trafficmanager.proxy.balancing;

import dev.trafficmanager.route.Split;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks a request's version from a split by weighted rendezvous hashing: each version scores
 * {@code -ln(u) / weight}, where {@code u} in (0, 1) is a hash of the sticky value and the version
 * (or a random draw when the request has no sticky value), and the lowest score wins. Each version
 * wins with probability {@code weight / total}; for a given sticky value a version's score depends
 * only on its own weight, so raising one version's weight moves users only to it, lowering it moves
 * them only away from it, and a version skipped (its route missing or deactivated) hands its users
 * to the others without moving anyone else. Ranges laid end to end would move users between two
 * versions whose weights did not change when a third one's did.
 *
 * <p>One per request; not thread-safe.
 */
public final class SplitChoice {
    private final String[] versions;
    private final double[] scores;
    private final List<String> skipped = new ArrayList<>(0);

    /** {@code sticky}: the request's sticky header or cookie value, or null to draw at random. */
    public SplitChoice(Split split, CharSequence sticky) {
        int n = split.weights().size();
        versions = new String[n];
        scores = new double[n];
        int i = 0;
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (Map.Entry<String, Integer> weight : split.weights().entrySet()) {
            versions[i] = weight.getKey();
            double u = sticky == null ? 1.0 - random.nextDouble() : unit(hash(sticky, weight.getKey()));
            scores[i] = weight.getValue() == 0 ? Double.POSITIVE_INFINITY : -Math.log(u) / weight.getValue();
            i++;
        }
    }

    /** The version to try: the best-scoring one not skipped; null when none with a positive weight is left. */
    public String next() {
        int best = -1;
        for (int i = 0; i < versions.length; i++) {
            if (versions[i] != null && scores[i] != Double.POSITIVE_INFINITY && (best < 0 || scores[i] < scores[best])) {
                best = i;
            }
        }
        return best < 0 ? null : versions[best];
    }

    /** {@code version} has no active route: the next best takes its place. */
    public void skip(String version) {
        for (int i = 0; i < versions.length; i++) {
            if (version.equals(versions[i])) {
                versions[i] = null;
                skipped.add(version);
            }
        }
    }

    /** The versions skipped so far, in order. */
    public List<String> skipped() {
        return skipped;
    }

    /** A 64-bit hash of the sticky value and the version (FNV-1a over both, then SplitMix64's finalizer). */
    static long hash(CharSequence sticky, String version) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < sticky.length(); i++) {
            h = (h ^ sticky.charAt(i)) * 0x100000001b3L;
        }
        h = (h ^ 0xff) * 0x100000001b3L; // a separator: ("ab", "c") and ("a", "bc") differ
        for (int i = 0; i < version.length(); i++) {
            h = (h ^ version.charAt(i)) * 0x100000001b3L;
        }
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    /** The hash as a number in (0, 1]: from its top 53 bits, never 0. */
    static double unit(long hash) {
        return 1.0 - (hash >>> 11) * 0x1.0p-53;
    }
}
