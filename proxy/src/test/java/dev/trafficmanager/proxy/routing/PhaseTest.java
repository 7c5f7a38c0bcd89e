package dev.trafficmanager.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every transition of an exchange's phase, allowed or not, against the diagram in {@link Phase}. */
class PhaseTest {
    private static final Map<Phase, Set<Phase>> DIAGRAM = Map.of(
            Phase.ROUTING, EnumSet.of(Phase.CONNECTING, Phase.ENDED),
            Phase.CONNECTING, EnumSet.of(Phase.CONNECTING, Phase.SENDING, Phase.ENDED),
            Phase.SENDING, EnumSet.of(Phase.CONNECTING, Phase.RESPONDING, Phase.ENDED),
            Phase.RESPONDING, EnumSet.of(Phase.ENDED),
            Phase.ENDED, EnumSet.noneOf(Phase.class));

    @Test
    void everyTransitionIsTheDiagramsAndNoOther() {
        for (Phase from : Phase.values()) {
            for (Phase to : Phase.values()) {
                assertThat(from.allows(to)).as(from + " -> " + to).isEqualTo(DIAGRAM.get(from).contains(to));
            }
        }
    }

    @Test
    void onlyRespondingHasStartedTheResponse() {
        for (Phase phase : Phase.values()) {
            assertThat(phase.responseStarted()).as(phase.name()).isEqualTo(phase == Phase.RESPONDING);
        }
    }

    @Test
    void everyPhaseCanEndAndNothingFollowsTheEnd() {
        for (Phase phase : EnumSet.complementOf(EnumSet.of(Phase.ENDED))) {
            assertThat(phase.allows(Phase.ENDED)).as(phase.name()).isTrue();
        }
        assertThat(EnumSet.allOf(Phase.class)).noneMatch(Phase.ENDED::allows);
    }
}
