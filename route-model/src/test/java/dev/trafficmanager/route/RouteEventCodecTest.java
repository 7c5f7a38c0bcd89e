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
    void carriesTheProtocolSinceVersion2() {
        for (RouteProtocol protocol : RouteProtocol.values()) {
            RouteEvent event = new RouteEvent(EVENT.type(), EVENT.key(), EVENT.url(), true, 7, 8, protocol);
            assertThat(RouteEventCodec.decode(RouteEventCodec.encode(event)).protocol()).isEqualTo(protocol);
        }
    }

    @Test
    void aVersion1EventHasTheDefaultProtocol() {
        RouteEvent h2 = new RouteEvent(EVENT.type(), EVENT.key(), EVENT.url(), true, 7, 8, RouteProtocol.H2);
        byte[] current = RouteEventCodec.encode(h2);
        byte[] version1 = Arrays.copyOf(current, current.length - 3); // without the protocol: tag, length, code
        version1[0] = 1;
        assertThat(RouteEventCodec.decode(version1)).isEqualTo(new RouteEvent(EVENT.type(), EVENT.key(), EVENT.url(),
                true, 7, 8, RouteProtocol.AUTO));
        byte[] unknownCode = current.clone();
        unknownCode[current.length - 1] = 9; // a protocol of a later release: routed by default
        assertThat(RouteEventCodec.decode(unknownCode).protocol()).isEqualTo(RouteProtocol.AUTO);
    }

    @Test
    void protocolNamesAreValidated() {
        assertThat(RouteProtocol.parse(null)).isEqualTo(RouteProtocol.AUTO);
        assertThat(RouteProtocol.parse("H2")).isEqualTo(RouteProtocol.H2);
        assertThatThrownBy(() -> RouteProtocol.parse("http2"))
                .isInstanceOfSatisfying(InvalidRouteException.class, e -> assertThat(e.code()).isEqualTo("invalid_protocol"))
                .hasMessage("protocol: \"http2\" (expected: auto, http1 or h2)");
    }

    @Test
    void isCompact() {
        assertThat(RouteEventCodec.encode(EVENT).length).isLessThan(100);
    }

    @Test
    void skipsFieldsAddedByALaterVersion() {
        byte[] current = RouteEventCodec.encode(EVENT);
        ByteArrayOutputStream later = new ByteArrayOutputStream();
        later.write(RouteEventCodec.FORMAT_VERSION + 1); // a later format version
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
