package dev.trafficmanager.route;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Format 3 of the event codec: a route's options and splits, and what a reader of format 2 makes of them. */
class TrafficCodecTest {
    private static final RouteKey KEY = new RouteKey("acme", "pay", "prod", "v1");
    private static final RouteOptions OPTIONS = new RouteOptions(
            List.of(new Endpoint("http://pay-a:8080/api", 3), new Endpoint("https://pay-b/api", 1)), 200,
            new RouteRetries(2, EnumSet.of(RetryOn.CONNECT_FAILURE, RetryOn.GATEWAY_ERROR)));
    private static final RouteEvent ROUTE = new RouteEvent(RouteEventType.UPDATED, KEY, "http://pay-a:8080/api", true, 7,
            1_700_000_000_000L, RouteProtocol.H2, OPTIONS);
    private static final SplitEvent SPLIT = new SplitEvent(RouteEventType.CREATED, new SplitKey("acme", "pay", "prod"),
            new Split(Map.of("v1", 90, "v2", 10), "x-user-id", "uid"), true, 3, 1_700_000_000_000L);

    @Test
    void routeOptionsAndSplitsRoundTrip() {
        assertThat(RouteEventCodec.decode(RouteEventCodec.encode(ROUTE))).isEqualTo(ROUTE);
        assertThat(RouteEventCodec.decodeChange(RouteEventCodec.encode((ChangeEvent) SPLIT))).isEqualTo(SPLIT);
        assertThat(SPLIT.keyString()).isEqualTo("acme/pay/prod");
        assertThatThrownBy(() -> RouteEventCodec.decode(RouteEventCodec.encode(SPLIT)))
                .hasMessageContaining("a split's event");
    }

    @Test
    void aFormat2ReaderSkipsTheOptionsAndRoutesToTheFirstEndpoint() {
        // A reader of format 2 skips tags it does not know: the same as decoding without them.
        RouteEvent seenByOld = RouteEventCodec.decode(withoutTrafficFields(RouteEventCodec.encode(ROUTE)));
        assertThat(seenByOld.url()).isEqualTo("http://pay-a:8080/api");
        assertThat(seenByOld.options()).isEqualTo(RouteOptions.NONE);
        assertThat(seenByOld.revision()).isEqualTo(7);
    }

    @Test
    void aFormat2ReaderCannotDecodeASplitAndSkipsIt() {
        // No version and no URL: the reader's "a required field is missing", a record it counts and skips.
        assertThatThrownBy(() -> RouteEventCodec.decodeChange(withoutTrafficFields(RouteEventCodec.encode(SPLIT))))
                .isInstanceOfSatisfying(InvalidRouteException.class, e -> assertThat(e.code()).isEqualTo("invalid_event"))
                .hasMessageContaining("a required field is missing");
    }

    @Test
    void brokenTrafficFieldsAreInvalidEvents() {
        Tlv.Writer zeroWeights = new Tlv.Writer(64).raw(3).oneByte(1, 1).string(2, "acme").string(3, "pay")
                .string(4, "prod").oneByte(7, 1).int64(8, 1).int64(9, 1).weighted(TrafficFields.TAG_SPLIT_WEIGHT, 0, "v1");
        assertThatThrownBy(() -> RouteEventCodec.decodeChange(zeroWeights.toBytes()))
                .isInstanceOfSatisfying(InvalidRouteException.class, e -> assertThat(e.code()).isEqualTo("invalid_event"))
                .hasMessageContaining("all zero");
        Tlv.Writer shortWeight = new Tlv.Writer(64).raw(3).bytes(TrafficFields.TAG_ENDPOINT, new byte[] {1, 2});
        assertThatThrownBy(() -> RouteEventCodec.decodeChange(shortWeight.toBytes()))
                .hasMessageContaining("expected: at least 4");
    }

    @Test
    void optionsAreValidated() {
        assertThatThrownBy(() -> new RouteOptions(List.of(new Endpoint("http://a/x", 1), new Endpoint("http://b/y", 1)), 0, null))
                .hasMessageContaining("one path");
        assertThatThrownBy(() -> new Split(Map.of("v1", 0), null, null)).hasMessageContaining("all zero");
        assertThatThrownBy(() -> new Split(Map.of("v1", 1), "bad header", null)).hasMessageContaining("stickyHeader");
        assertThat(new RouteOptions(List.of(new Endpoint("http://a:1", 1), new Endpoint("http://b:2/", 1)), 0, null)
                .urlOr("ignored")).as("an empty path and / are one path").isEqualTo("http://a:1");
    }

    /** The event's bytes without the tags format 3 added. */
    private static byte[] withoutTrafficFields(byte[] event) {
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        kept.write(event[0]);
        ByteBuffer in = ByteBuffer.wrap(event, 1, event.length - 1);
        Tlv.Writer out = new Tlv.Writer(event.length);
        Tlv.read(in, (tag, field, length) -> {
            if (tag < TrafficFields.TAG_ENDPOINT || tag > TrafficFields.TAG_STICKY_COOKIE) {
                byte[] value = new byte[length];
                field.get(field.position(), value);
                out.bytes(tag, value);
            }
        });
        kept.writeBytes(out.toBytes());
        return kept.toByteArray();
    }
}
