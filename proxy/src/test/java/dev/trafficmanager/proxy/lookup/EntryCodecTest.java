package dev.trafficmanager.proxy.lookup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.route.Endpoint;
import dev.trafficmanager.route.RetryOn;
import dev.trafficmanager.route.RouteOptions;
import dev.trafficmanager.route.RouteProtocol;
import dev.trafficmanager.route.RouteRetries;
import dev.trafficmanager.route.Split;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the cache tiers' bytes carry: a route's protocol and options, a split, a negative entry; and what they refuse. */
class EntryCodecTest {
    @Test
    void optionsSplitsAndAbsencesRoundTrip() {
        RouteOptions options = new RouteOptions(List.of(new Endpoint("http://a:1/x", 2), new Endpoint("http://b:1/x", 1)),
                250, new RouteRetries(1, EnumSet.of(RetryOn.RESET)));
        RouteEntry route = RouteEntry.found("t/s/e/v1", "http://a:1/x", true, 4, 1000, RouteProtocol.AUTO, options);
        RouteEntry split = RouteEntry.split("t/s/e", new Split(Map.of("v1", 9, "v2", 1), "x-user", null), true, 2, 1000);
        RouteEntry absent = RouteEntry.absent("t/s/e", 1000);
        for (RouteEntry entry : List.of(route, split, absent)) {
            byte[] bytes = EntryCodec.encode(entry);
            RouteEntry decoded = EntryCodec.decode(entry.key(), bytes, bytes.length);
            assertThat(decoded.toString()).isEqualTo(entry.toString());
            assertThat(decoded.options()).isEqualTo(entry.options());
            assertThat(decoded.split()).isEqualTo(entry.split());
            assertThat(EntryCodec.sameRoute(bytes, EntryCodec.encode(decoded))).isTrue();
        }
        assertThat(EntryCodec.decode(route.key(), EntryCodec.encode(route), EntryCodec.encode(route).length)
                .endpointTargets()).hasSize(2);
    }

    @Test
    void aSplitUnderARouteKeyOrARouteUnderASplitKeyIsRefused() {
        byte[] split = EntryCodec.encode(RouteEntry.split("t/s/e", new Split(Map.of("v1", 1), null, null), true, 1, 1000));
        assertThat(EntryCodec.decode("t/s/e/v1", split, split.length)).isNull();
        byte[] route = EntryCodec.encode(RouteEntry.found("t/s/e/v1", "http://a:1/", true, 1, 1000));
        assertThat(EntryCodec.decode("t/s/e", route, route.length)).isNull();
    }

    @Test
    void entriesOfTheFirstFormatAreNotRead() {
        byte[] format1 = new byte[18 + 11];
        format1[0] = 1;
        format1[1] = 3;
        System.arraycopy("http://a:1/".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, format1, 18, 11);
        assertThat(EntryCodec.decode("t/s/e/v1", format1, format1.length)).isNull();
    }
    @Test
    void theProtocolRoundTripsInTheFlags() {
        for (RouteProtocol protocol : RouteProtocol.values()) {
            RouteEntry entry = RouteEntry.found("t/s/e/v1", "http://up:8080/x", true, 3, 1000, protocol);
            byte[] bytes = EntryCodec.encode(entry);
            RouteEntry decoded = EntryCodec.decode(entry.key(), bytes, bytes.length);
            assertThat(decoded.protocol()).isEqualTo(protocol);
            assertThat(decoded.target().protocol()).isEqualTo(protocol);
            assertThat(decoded.url()).isEqualTo(entry.url());
            assertThat(decoded.active()).isTrue();
            assertThat(bytes[1] & 3).as("the flags an older reader reads are unchanged").isEqualTo(3);
        }
    }
}
