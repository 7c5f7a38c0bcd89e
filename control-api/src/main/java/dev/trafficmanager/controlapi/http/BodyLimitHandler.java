package dev.trafficmanager.controlapi.http;

import dev.trafficmanager.http.HttpRefusal;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Aggregates a request into one message of at most {@code maxBytes}. A larger body, known from
 * Content-Length up front or found while streaming chunks, becomes a {@link ApiHandler.Rejection}
 * (413 {@code body_too_large}) that the API handler answers in turn and then closes the
 * connection; the aggregator drops the rest of that body. A client that sent
 * {@code Expect: 100-continue} with a too-large Content-Length gets the same JSON 413 at once instead
 * of the 100, and need not send the body at all.
 */
public final class BodyLimitHandler extends HttpObjectAggregator {
    private final int maxBytes;
    private final Json json;

    public BodyLimitHandler(int maxBytes, Json json) {
        super(maxBytes);
        this.maxBytes = maxBytes;
        this.json = json;
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
        // The aggregator releases `oversized` itself after this returns.
        ctx.fireChannelRead(new ApiHandler.Rejection(tooLarge()));
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        Object response = super.newContinueResponse(start, maxContentLength, pipeline);
        if (response instanceof FullHttpResponse netty
                && netty.status().code() == HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE.code()) {
            netty.release();
            return ApiHandler.toHttp(pipeline.channel().alloc(), json, ApiHandler.errorResponse(tooLarge()),
                    start.protocolVersion(), true);
        }
        return response;
    }

    private ApiException tooLarge() {
        HttpRefusal refusal = HttpRefusal.bodyTooLarge("request body over " + maxBytes + " bytes");
        return new ApiException(refusal.status(), refusal.code(), refusal.message());
    }
}
