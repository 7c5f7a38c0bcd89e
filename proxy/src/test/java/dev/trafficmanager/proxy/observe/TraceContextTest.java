package dev.trafficmanager.proxy.observe;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** W3C traceparent parsing, and what each mode passes, creates and replaces. */
class TraceContextTest {
    private static final String VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    private static AccessRecord record() {
        return new AccessRecord("GET", "HTTP/1.1", "/");
    }

    @Test
    void readsOnlyValidTraceparents() {
        assertThat(TraceContext.traceId(VALID)).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(TraceContext.traceId("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"))
                .as("a later version may carry more fields").isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(TraceContext.traceId(VALID + "-x")).as("version 00 is exactly 55 characters").isNull();
        assertThat(TraceContext.traceId("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).isNull();
        assertThat(TraceContext.traceId("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).isNull();
        assertThat(TraceContext.traceId("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")).isNull();
        assertThat(TraceContext.traceId("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01")).as("upper case").isNull();
        assertThat(TraceContext.traceId("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7")).isNull();
        assertThat(TraceContext.traceId("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).isNull();
    }

    @Test
    void createFillsWhatIsMissingAndKeepsWhatIsThere() {
        HttpHeaders empty = new DefaultHttpHeaders().add("tracestate", "orphan=1");
        AccessRecord created = record();
        TraceContext.apply(empty, ObserveConfig.TraceMode.CREATE, 100, created);
        String traceparent = empty.get("traceparent");
        assertThat(TraceContext.traceId(traceparent)).isEqualTo(created.traceId()).hasSize(32);
        assertThat(traceparent).endsWith("-01");
        assertThat(empty.get("x-request-id")).isEqualTo(created.requestId())
                .matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
        assertThat(empty.contains("tracestate")).as("a tracestate without its traceparent is dropped").isFalse();

        HttpHeaders given = new DefaultHttpHeaders().add("traceparent", VALID).add("tracestate", "vendor=1")
                .add("x-request-id", "req-42");
        AccessRecord passed = record();
        TraceContext.apply(given, ObserveConfig.TraceMode.CREATE, 100, passed);
        assertThat(given.get("traceparent")).isEqualTo(VALID);
        assertThat(given.get("tracestate")).isEqualTo("vendor=1");
        assertThat(given.get("x-request-id")).isEqualTo("req-42");
        assertThat(passed.traceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
        assertThat(passed.requestId()).isEqualTo("req-42");

        HttpHeaders broken = new DefaultHttpHeaders().add("traceparent", "garbage").add("tracestate", "vendor=1");
        AccessRecord replaced = record();
        TraceContext.apply(broken, ObserveConfig.TraceMode.CREATE, 100, replaced);
        assertThat(TraceContext.traceId(broken.get("traceparent"))).as("a new trace").isEqualTo(replaced.traceId());
        assertThat(broken.contains("tracestate")).isFalse();
    }

    @Test
    void passCreatesNothingAndOffReadsNothing() {
        HttpHeaders empty = new DefaultHttpHeaders();
        AccessRecord passed = record();
        TraceContext.apply(empty, ObserveConfig.TraceMode.PASS, 100, passed);
        assertThat(empty.isEmpty()).isTrue();
        assertThat(passed.traceId()).isNull();
        HttpHeaders given = new DefaultHttpHeaders().add("traceparent", VALID).add("x-request-id", "r");
        AccessRecord off = record();
        TraceContext.apply(given, ObserveConfig.TraceMode.OFF, 100, off);
        assertThat(off.traceId()).isNull();
        assertThat(off.requestId()).isNull();
        AccessRecord read = record();
        TraceContext.apply(given, ObserveConfig.TraceMode.PASS, 100, read);
        assertThat(read.traceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    }

    @Test
    void createdTracesAreSampledAtTheConfiguredShare() {
        int sampled = 0;
        for (int i = 0; i < 1000; i++) {
            HttpHeaders headers = new DefaultHttpHeaders();
            TraceContext.apply(headers, ObserveConfig.TraceMode.CREATE, 0, record());
            assertThat(headers.get("traceparent")).endsWith("-00");
            HttpHeaders some = new DefaultHttpHeaders();
            TraceContext.apply(some, ObserveConfig.TraceMode.CREATE, 30, record());
            sampled += some.get("traceparent").endsWith("-01") ? 1 : 0;
        }
        assertThat(sampled).as("about 30 % of 1,000").isBetween(220, 380);
    }

    @Test
    void createdIdsDoNotRepeat() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            ids.add(TraceContext.newId(2));
        }
        assertThat(ids).hasSize(10_000);
    }
}
