package dev.trafficmanager.controlapi.http;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Assembles a connection's pipeline:
 * <pre>
 *  bytes -> idle -> codec -> body-limit -> api
 * </pre>
 * idle closes a connection silent for {@value #IDLE_SECONDS} s; codec limits the request line to
 * 4 KiB and headers to 16 KiB; body-limit aggregates at most the configured body size (413 beyond);
 * api answers every request and error in order and owns keep-alive and closing.
 */
public final class ControlApiInitializer extends ChannelInitializer<SocketChannel> {
    static final String IDLE = "idle";
    static final String CODEC = "codec";
    static final String BODY_LIMIT = "body-limit";
    static final String API = "api";
    private static final int IDLE_SECONDS = 60;

    private final Router router;
    private final Executor workers;
    private final Json json;
    private final int maxBodyBytes;
    private final Duration maxQueueWait;

    public ControlApiInitializer(Router router, Executor workers, Json json, int maxBodyBytes, Duration maxQueueWait) {
        this.router = router;
        this.workers = workers;
        this.json = json;
        this.maxBodyBytes = maxBodyBytes;
        this.maxQueueWait = maxQueueWait;
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        ChannelPipeline pipeline = channel.pipeline();
        pipeline.addLast(IDLE, new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS) {
            @Override
            protected void channelIdle(io.netty.channel.ChannelHandlerContext ctx,
                                       io.netty.handler.timeout.IdleStateEvent evt) {
                ctx.close();
            }
        });
        pipeline.addLast(CODEC, new HttpServerCodec(4096, 16 * 1024, 8192));
        pipeline.addLast(BODY_LIMIT, new BodyLimitHandler(maxBodyBytes, json));
        pipeline.addLast(API, new ApiHandler(router, workers, json, maxQueueWait));
    }
}
