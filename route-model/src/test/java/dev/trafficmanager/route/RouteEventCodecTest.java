package dev.trafficmanager.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RouteEventCodecTest {
    private static final RouteEvent EVENT = new RouteEvent(RouteEventType.UPDATED,
            new RouteKey("team-a", "payments", "prod", "v2"), "https://payments-v2.internal:8443/api",
            false, 42L, 1_790_000_000_123L);

    @Test
    void roundTripsEveryTypeAndField() {
        for (RouteEventType type : RouteEventType.values()) {
            RouteEvent event = new RouteEvent(type, EVENT.key(), EVENT.url(), type != RouteEventType.DEACTIVATED,
                    Long.MAX_VALUE - type.code(), type.code());
            assertThat(RouteEventCodec.decode(RouteEventCodec.encode(event))).isEqualTo(event);
        }
    }

    @Test
    void isCompact() {
        assertThat(RouteEventCodec.encode(EVENT).length).isLessThan(100);
    }

    @Test
    void skipsFieldsAddedByALaterVersion() {
        byte[] current = RouteEventCodec.encode(EVENT);
        ByteArrayOutputStream later = new ByteArrayOutputStream();
        later.write(2); // a later format version
        later.write(current, 1, current.length - 1);
        later.write(200); // unknown tag
        later.write(3);
        later.writeBytes(new byte[] {9, 9, 9});
        later.write(201); // unknown tag, empty
        later.write(0);
        assertThat(RouteEventCodec.decode(later.toByteArray())).isEqualTo(EVENT);
    }

    @Test
    void refusesEveryTruncation() {
        byte[] bytes = RouteEventCodec.encode(EVENT);
        for (int length = 0; length < bytes.length; length++) {
            byte[] truncated = Arrays.copyOf(bytes, length);
            assertThatThrownBy(() -> RouteEventCodec.decode(truncated))
                    .as("truncated to %d bytes", length)
                    .isInstanceOfSatisfying(InvalidRouteException.class,
                            e -> assertThat(e.code()).isEqualTo("invalid_event"));
        }
    }

    @Test
    void refusesInvalidContent() {
        byte[] bytes = RouteEventCodec.encode(EVENT);
        byte[] badVersion = bytes.clone();
        badVersion[0] = 0;
        assertThatThrownBy(() -> RouteEventCodec.decode(badVersion)).hasMessageContaining("format version 0");

        byte[] badType = bytes.clone();
        badType[3] = 99; // version byte, tag, length, then the type code
        assertThatThrownBy(() -> RouteEventCodec.decode(badType)).hasMessageContaining("unknown event type 99");

        byte[] badName = bytes.clone();
        badName[6] = 'T'; // first letter of the tenant
        assertThatThrownBy(() -> RouteEventCodec.decode(badName)).hasMessageContaining("tenant");

        byte[] hugeLength = {1, 2, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};
        assertThatThrownBy(() -> RouteEventCodec.decode(hugeLength)).hasMessageContaining("claims");
    }
}
