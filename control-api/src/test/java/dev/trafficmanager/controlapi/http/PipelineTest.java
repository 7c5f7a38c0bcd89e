package dev.trafficmanager.controlapi.http;

import dev.trafficmanager.controlapi.metrics.ApiMetrics;
import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.http.PipelineLayout;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The control API's built pipeline is the one its layout (and diagram) names. */
class PipelineTest {
    @Test
    void theControlApiPipelineMatchesItsLayout() {
        EmbeddedChannel channel = new EmbeddedChannel(new ControlApiInitializer(new Router(), Runnable::run, new Json(), new ApiMetrics(),
                1024, Duration.ofSeconds(1)));
        assertThat(channel.pipeline().names()).startsWith(PipelineLayout.CONTROL_API.names(false).toArray(String[]::new));
        assertThat(channel.pipeline().names()).hasSize(PipelineLayout.CONTROL_API.names(false).size() + 1); // + Netty's tail
        channel.finishAndReleaseAll();
    }
}
