package dev.trafficmanager.proxy.balancing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.route.Split;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The weighted rendezvous choice: its proportions, its stickiness, and who moves when weights change. */
class SplitChoiceTest {
    private static final int USERS = 20_000;

    private static String pick(Map<String, Integer> weights, String user) {
        return new SplitChoice(new Split(weights, "x-user-id", null), user).next();
    }

    @Test
    void stickyUsersSpreadByWeightAndMoveOnlyToTheVersionThatGrew() {
        Map<String, Integer> before = Map.of("v1", 60, "v2", 10, "v3", 30);
        Map<String, Integer> after = Map.of("v1", 60, "v2", 40, "v3", 30); // v2 grows; v1 and v3 keep theirs
        Map<String, Integer> counts = new HashMap<>();
        int moved = 0;
        for (int u = 0; u < USERS; u++) {
            String user = "user-" + u;
            String first = pick(before, user);
            assertThat(pick(before, user)).as("the same user, the same version").isEqualTo(first);
            counts.merge(first, 1, Integer::sum);
            String then = pick(after, user);
            if (!then.equals(first)) {
                assertThat(then).as("a user who moves goes to the version that grew").isEqualTo("v2");
                moved++;
            }
        }
        assertThat(counts.get("v2") / (double) USERS).isBetween(0.085, 0.115);
        assertThat(counts.get("v3") / (double) USERS).isBetween(0.28, 0.32);
        // v2's share goes from 10 % to 40/130: about 20.8 % of users move.
        assertThat(moved / (double) USERS).isBetween(0.18, 0.24);
    }

    @Test
    void aSkippedVersionHandsItsUsersToTheOthersAndNobodyElseMoves() {
        Map<String, Integer> weights = Map.of("v1", 50, "v2", 25, "v3", 25);
        for (int u = 0; u < USERS; u++) {
            String user = "user-" + u;
            SplitChoice choice = new SplitChoice(new Split(weights, "x-user-id", null), user);
            String first = choice.next();
            choice.skip("v2");
            String second = choice.next();
            if (!first.equals("v2")) {
                assertThat(second).as("only v2's users move").isEqualTo(first);
            } else {
                assertThat(second).isIn("v1", "v3");
            }
            assertThat(choice.skipped()).containsExactly("v2");
        }
    }

    @Test
    void requestsWithoutAStickyValueFollowTheWeightsAndZeroWeightsNeverWin() {
        Split split = new Split(Map.of("v1", 90, "v2", 10, "v0", 0), "x-user-id", null);
        int v2 = 0;
        for (int i = 0; i < 100_000; i++) {
            String version = new SplitChoice(split, null).next();
            assertThat(version).isNotEqualTo("v0");
            v2 += version.equals("v2") ? 1 : 0;
        }
        assertThat(v2 / 100_000.0).isBetween(0.095, 0.105);
        SplitChoice choice = new SplitChoice(split, "someone");
        choice.skip("v1");
        choice.skip("v2");
        assertThat(choice.next()).as("a zero weight is never chosen, even as the last one").isNull();
    }

    @Test
    void theHashSeparatesValueAndVersion() {
        assertThat(SplitChoice.hash("ab", "c")).isNotEqualTo(SplitChoice.hash("a", "bc"));
        assertThat(SplitChoice.unit(0)).isEqualTo(1.0);
        assertThat(SplitChoice.unit(-1)).isGreaterThan(0).isLessThan(1e-15);
    }
}
