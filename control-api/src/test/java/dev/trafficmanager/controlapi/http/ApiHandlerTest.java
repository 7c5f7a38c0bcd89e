package dev.trafficmanager.controlapi.http;

import dev.trafficmanager.controlapi.metrics.ApiMetrics;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import io.netty.handler.codec.DecoderResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

class ApiHandlerTest {
    /** Runs tasks when the test says so, standing in for the worker pool. */
    private final List<Runnable> queued = new ArrayList<>();
    private final Executor workers = queued::add;

    private final Router router = new Router()
            .add(HttpMethod.GET, "/echo/{name}", request -> ApiResponse.json(HttpResponseStatus.OK,
                    Map.of("name", request.pathParam(0))))
            .add(HttpMethod.GET, "/boom", request -> {
                throw new IllegalStateException("bug");
            })
            .add(HttpMethod.GET, "/teapot", request -> {
                throw new ApiException(HttpResponseStatus.CONFLICT, "teapot", "short and stout");
            });

    private EmbeddedChannel channel() {
        return new EmbeddedChannel(new ApiHandler(router, workers, new Json(), new ApiMetrics(), Duration.ofMinutes(1)));
    }

    private static FullHttpRequest get(String uri) {
        return new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri, Unpooled.EMPTY_BUFFER);
    }

    private void runWorkers(EmbeddedChannel channel) {
        while (!queued.isEmpty()) {
            queued.remove(0).run();
            channel.runPendingTasks();
        }
    }

    private static String body(FullHttpResponse response) {
        try {
            return response.content().toString(StandardCharsets.UTF_8);
        } finally {
            response.release();
        }
    }

    @Test
    void answersPipelinedRequestsInOrderOneAtATime() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(get("/echo/first"));
        channel.writeInbound(get("/echo/second"));
        assertThat(queued).as("the second waits for the first").hasSize(1);
        assertThat(channel.config().isAutoRead()).isFalse();
        runWorkers(channel);

        FullHttpResponse first = channel.readOutbound();
        FullHttpResponse second = channel.readOutbound();
        assertThat(first.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(first.headers().get(HttpHeaderNames.CONTENT_TYPE)).isEqualTo("application/json");
        assertThat(body(first)).isEqualTo("{\"name\":\"first\"}");
        assertThat(body(second)).isEqualTo("{\"name\":\"second\"}");
        assertThat(channel.config().isAutoRead()).isTrue();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void mapsErrorsToJsonWithTheirStatus() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(get("/nowhere"));
        FullHttpResponse notFound = channel.readOutbound();
        assertThat(notFound.status()).isEqualTo(HttpResponseStatus.NOT_FOUND);
        assertThat(body(notFound)).contains("\"error\":\"not_found\"");

        channel.writeInbound(get("/teapot"));
        runWorkers(channel);
        FullHttpResponse conflict = channel.readOutbound();
        assertThat(conflict.status()).isEqualTo(HttpResponseStatus.CONFLICT);
        assertThat(body(conflict)).contains("\"error\":\"teapot\"").contains("short and stout");

        channel.writeInbound(get("/boom"));
        runWorkers(channel);
        FullHttpResponse failed = channel.readOutbound();
        assertThat(failed.status()).isEqualTo(HttpResponseStatus.INTERNAL_SERVER_ERROR);
        assertThat(body(failed)).contains("\"error\":\"internal_error\"").doesNotContain("bug");
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void refusesWhenTheWorkerQueueIsFull() {
        EmbeddedChannel channel = new EmbeddedChannel(new ApiHandler(router, task -> {
            throw new java.util.concurrent.RejectedExecutionException("full");
        }, new Json(), new ApiMetrics(), Duration.ofMinutes(1)));
        channel.writeInbound(get("/echo/x"));
        FullHttpResponse response = channel.readOutbound();
        assertThat(response.status()).isEqualTo(HttpResponseStatus.SERVICE_UNAVAILABLE);
        assertThat(body(response)).contains("\"error\":\"overloaded\"");
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void closesAfterAnsweringAClientThatAskedToClose() {
        EmbeddedChannel channel = channel();
        FullHttpRequest request = get("/echo/bye");
        request.headers().set(HttpHeaderNames.CONNECTION, "close");
        channel.writeInbound(request);
        runWorkers(channel);
        FullHttpResponse response = channel.readOutbound();
        assertThat(response.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
        body(response);
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void answersARequestThatWaitedTooLongForAWorkerWith503() {
        EmbeddedChannel channel = new EmbeddedChannel(new ApiHandler(router, workers, new Json(), new ApiMetrics(), Duration.ZERO));
        channel.writeInbound(get("/echo/late"));
        runWorkers(channel);
        FullHttpResponse response = channel.readOutbound();
        assertThat(response.status()).isEqualTo(HttpResponseStatus.SERVICE_UNAVAILABLE);
        assertThat(body(response)).contains("\"error\":\"overloaded\"");
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void answersARejectionInTurnAfterTheRequestBeforeItThenCloses() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(get("/echo/first"));
        channel.writeInbound(new ApiHandler.Rejection(new ApiException(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                "body_too_large", "too big")));
        channel.writeInbound(get("/echo/after-the-refusal"));
        runWorkers(channel);
        FullHttpResponse first = channel.readOutbound();
        FullHttpResponse refused = channel.readOutbound();
        assertThat(body(first)).isEqualTo("{\"name\":\"first\"}");
        assertThat(refused.status()).isEqualTo(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE);
        assertThat(refused.headers().get(HttpHeaderNames.CONNECTION)).isEqualTo("close");
        assertThat(body(refused)).isEqualTo("{\"error\":\"body_too_large\",\"message\":\"too big\"}");
        assertThat((Object) channel.readOutbound()).as("nothing after the refusal is answered").isNull();
        assertThat(queued).isEmpty();
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void refusesAMalformedRequestAndClosesButKeepsTheConnectionForABadQuery() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(get("/echo/x?service=%zz"));
        FullHttpResponse badQuery = channel.readOutbound();
        assertThat(badQuery.status()).isEqualTo(HttpResponseStatus.BAD_REQUEST);
        assertThat(body(badQuery)).contains("\"error\":\"invalid_query\"");
        assertThat(channel.isOpen()).isTrue();

        FullHttpRequest malformed = get("/echo/x");
        malformed.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("invalid version")));
        channel.writeInbound(malformed);
        FullHttpResponse response = channel.readOutbound();
        assertThat(response.status()).isEqualTo(HttpResponseStatus.BAD_REQUEST);
        assertThat(body(response)).contains("\"error\":\"bad_request\"").contains("invalid version");
        assertThat(channel.isOpen()).isFalse();
        assertFalse(channel.finishAndReleaseAll());
    }
}
