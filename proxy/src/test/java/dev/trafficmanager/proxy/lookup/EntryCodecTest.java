package dev.trafficmanager.proxy.lookup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.route.RouteProtocol;
import org.junit.jupiter.api.Test;

/** A route's protocol survives the cache tiers' bytes, in flag bits a reader that predates it ignores. */
class EntryCodecTest {
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
