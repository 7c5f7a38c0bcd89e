package dev.trafficmanager.proxy.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The README's gRPC status table, code by code, and the grpc-timeout and grpc-message formats. */
class GrpcStatusTest {
    @Test
    void everyErrorOfOursMapsToItsStatus() {
        Map<String, Integer> table = Map.ofEntries(
                Map.entry("upstream_unreachable", 14), Map.entry("upstream_circuit_open", 14),
                Map.entry("route_lookup_unavailable", 14), Map.entry("upstream_timeout", 4),
                Map.entry("route_not_found", 12), Map.entry("tenant_forbidden", 7), Map.entry("outbound_forbidden", 7),
                Map.entry("missing_route_header", 3), Map.entry("invalid_route_header", 3), Map.entry("invalid_host", 3),
                Map.entry("invalid_path", 3), Map.entry("bad_request", 3), Map.entry("connect_to_route", 3),
                Map.entry("uri_too_long", 3), Map.entry("body_too_large", 8), Map.entry("headers_too_large", 8),
                Map.entry("tenant_overloaded", 8));
        Map<String, HttpResponseStatus> statuses = Map.ofEntries(
                Map.entry("upstream_unreachable", HttpResponseStatus.BAD_GATEWAY),
                Map.entry("upstream_circuit_open", HttpResponseStatus.SERVICE_UNAVAILABLE),
                Map.entry("route_lookup_unavailable", HttpResponseStatus.SERVICE_UNAVAILABLE),
                Map.entry("upstream_timeout", HttpResponseStatus.GATEWAY_TIMEOUT),
                Map.entry("route_not_found", HttpResponseStatus.NOT_FOUND),
                Map.entry("tenant_forbidden", HttpResponseStatus.FORBIDDEN),
                Map.entry("outbound_forbidden", HttpResponseStatus.FORBIDDEN),
                Map.entry("missing_route_header", HttpResponseStatus.BAD_REQUEST),
                Map.entry("invalid_route_header", HttpResponseStatus.BAD_REQUEST),
                Map.entry("invalid_host", HttpResponseStatus.BAD_REQUEST),
                Map.entry("invalid_path", HttpResponseStatus.BAD_REQUEST),
                Map.entry("bad_request", HttpResponseStatus.BAD_REQUEST),
                Map.entry("connect_to_route", HttpResponseStatus.BAD_REQUEST),
                Map.entry("uri_too_long", HttpResponseStatus.REQUEST_URI_TOO_LONG),
                Map.entry("body_too_large", HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE),
                Map.entry("headers_too_large", HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE),
                Map.entry("tenant_overloaded", HttpResponseStatus.SERVICE_UNAVAILABLE));
        table.forEach((code, status) -> assertThat(Grpc.status(statuses.get(code), code)).as(code).isEqualTo(status));
        assertThat(Grpc.status(HttpResponseStatus.valueOf(508), "loop_detected")).isEqualTo(Grpc.INTERNAL);
        assertThat(Grpc.status(HttpResponseStatus.valueOf(501), "connect_unsupported")).isEqualTo(Grpc.INTERNAL);
    }

    @Test
    void anErrorIsATrailersOnlyAnswer() {
        FullHttpResponse response = Grpc.error(HttpResponseStatus.NOT_FOUND, "route_not_found", "no route t/s/e/v1 (é 100%)");
        assertThat(response.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(response.content().readableBytes()).isZero();
        assertThat(response.headers().get("content-type")).isEqualTo("application/grpc");
        assertThat(response.headers().get("grpc-status")).isEqualTo("12");
        assertThat(response.headers().get("grpc-message")).isEqualTo("route_not_found: no route t/s/e/v1 (%C3%A9 100%25)");
        response.release();
    }

    @Test
    void grpcTimeoutIsParsedAndMalformedOnesIgnored() {
        assertThat(Grpc.timeoutNanos(headers("250m"))).isEqualTo(TimeUnit.MILLISECONDS.toNanos(250));
        assertThat(Grpc.timeoutNanos(headers("3S"))).isEqualTo(TimeUnit.SECONDS.toNanos(3));
        assertThat(Grpc.timeoutNanos(headers("1H"))).isEqualTo(TimeUnit.HOURS.toNanos(1));
        assertThat(Grpc.timeoutNanos(headers("99999999n"))).isEqualTo(99_999_999L);
        for (String bad : new String[] {"", "m", "5", "123456789S", "5x", "-5S", "5 S"}) {
            assertThat(Grpc.timeoutNanos(headers(bad))).as(bad).isZero();
        }
        assertThat(Grpc.timeoutNanos(new DefaultHttpHeaders())).isZero();
        assertThat(Grpc.isCall(new DefaultHttpHeaders().set("content-type", "application/grpc+proto"))).isTrue();
        assertThat(Grpc.isCall(new DefaultHttpHeaders().set("content-type", "application/grpc-web"))).isFalse();
        assertThat(Grpc.isCall(new DefaultHttpHeaders().set("content-type", "application/json"))).isFalse();
    }

    private static HttpHeaders headers(String timeout) {
        return new DefaultHttpHeaders().set("grpc-timeout", timeout);
    }
}
