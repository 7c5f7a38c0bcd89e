package dev.trafficmanager.route;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * Upstream URL validation on arbitrary text: it either refuses with {@code invalid_url} (never
 * another exception) or accepts a URL that keeps every promise of the rule, so the sidecar can
 * always build a target from it.
 */
class UpstreamUrlFuzzTest {

    @FuzzTest(maxDuration = "15s")
    void anAcceptedUrlKeepsEveryPromise(byte[] bytes) {
        String url = new String(bytes, StandardCharsets.UTF_8);
        String accepted;
        try {
            accepted = UpstreamUrl.require(url);
        } catch (InvalidRouteException e) {
            assertThat(e.code()).isEqualTo("invalid_url");
            return;
        }
        assertThat(accepted).isEqualTo(url);
        assertThat(url.length()).isBetween(1, UpstreamUrl.MAX_LENGTH);
        assertThat(url.chars().allMatch(c -> c > ' ' && c < 0x7f)).as("printable ASCII: %s", url).isTrue();
        URI uri = URI.create(url);
        assertThat(uri.getScheme().toLowerCase(java.util.Locale.ROOT)).isIn("http", "https");
        assertThat(uri.getHost()).as("host of %s", url).isNotEmpty();
        assertThat(uri.getRawUserInfo()).isNull();
        assertThat(uri.getRawQuery()).isNull();
        assertThat(uri.getRawFragment()).isNull();
        assertThat(uri.getPort()).isBetween(-1, 65535);
    }
}
