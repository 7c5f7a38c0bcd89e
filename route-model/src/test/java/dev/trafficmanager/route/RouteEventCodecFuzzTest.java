package dev.trafficmanager.route;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * The event codec on arbitrary bytes, as a sidecar would read them from a topic anyone might write
 * to: decoding either refuses with {@code invalid_event} (never another exception, never a hang) or
 * gives an event (a route's or a split's) that survives encoding and decoding unchanged.
 */
class RouteEventCodecFuzzTest {

    @FuzzTest(maxDuration = "15s")
    void decodingRefusesOrRoundTrips(byte[] bytes) {
        ChangeEvent event;
        try {
            event = RouteEventCodec.decodeChange(bytes);
        } catch (InvalidRouteException e) {
            assertThat(e.code()).isEqualTo("invalid_event");
            return;
        }
        assertThat(RouteEventCodec.decodeChange(RouteEventCodec.encode(event))).isEqualTo(event);
    }
}
