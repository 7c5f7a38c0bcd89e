package dev.trafficmanager.controlapi.http;

import dev.trafficmanager.http.PipelineLayout;
import dev.trafficmanager.controlapi.metrics.ApiMetrics;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Assembles a connection's pipeline, {@link PipelineLayout#CONTROL_API}: idle closes a connection silent for {@value #IDLE_SECONDS} s; codec limits the request line to
 * 4 KiB and headers to 16 KiB; body-limit aggregates at most the configured body size (413 beyond);
 * api answers every request and error in order and owns keep-alive and closing.
 */
public final class ControlApiInitializer extends ChannelInitializer<Channel> {
    private static final int IDLE_SECONDS = 60;

    private final Router router;
    private final Executor workers;
    private final Json json;
    private final ApiMetrics metrics;
    private final int maxBodyBytes;
    private final Duration maxQueueWait;

    public ControlApiInitializer(Router router, Executor workers, Json json, ApiMetrics metrics, int maxBodyBytes,
                                 Duration maxQueueWait) {
        this.router = router;
        this.workers = workers;
        this.json = json;
        this.metrics = metrics;
        this.maxBodyBytes = maxBodyBytes;
        this.maxQueueWait = maxQueueWait;
    }

    @Override
    protected void initChannel(Channel channel) {
        PipelineLayout.CONTROL_API.assemble(channel.pipeline(),
                new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS) {
                    @Override
                    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
                        ctx.close();
                    }
                },
                new HttpServerCodec(4096, 16 * 1024, 8192),
                new BodyLimitHandler(maxBodyBytes, json),
                new ApiHandler(router, workers, json, metrics, maxQueueWait));
    }
}
