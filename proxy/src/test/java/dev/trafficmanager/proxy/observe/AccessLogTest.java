package dev.trafficmanager.proxy.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import dev.trafficmanager.testing.Poll;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The writer: one JSON line per record, the query dropped unless asked for, and a full queue dropping, never blocking. */
class AccessLogTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Counter written = registry.counter("written");
    private final Counter dropped = registry.counter("dropped");

    private static AccessRecord record(String path) {
        AccessRecord record = new AccessRecord("POST", "HTTP/1.1", path);
        record.lookedUp("t/pay/prod/v1", ProxyMetrics.Tier.L1, false);
        record.error("upstream_unreachable");
        record.upstream("http://127.0.0.1:9");
        record.sent(42);
        record.ended(502, 7, 1);
        return record;
    }

    @Test
    void writesOneJsonLinePerRequestWithoutItsQuery() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        AccessLog log = new AccessLog(out, 64, false, written, dropped);
        log.offer(record("/pay?card=4111\"x\n"));
        log.close();
        String text = out.toString(StandardCharsets.UTF_8);
        assertThat(text).endsWith("\n").hasLineCount(1).doesNotContain("4111");
        JsonNode line = new ObjectMapper().readTree(text);
        assertThat(Instant.parse(line.get("time").asText())).isBefore(Instant.now().plusSeconds(1));
        assertThat(line.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(line.get("route").asText()).isEqualTo("t/pay/prod/v1");
        assertThat(line.get("method").asText()).isEqualTo("POST");
        assertThat(line.get("path").asText()).isEqualTo("/pay");
        assertThat(line.get("status").asInt()).isEqualTo(502);
        assertThat(line.get("error").asText()).isEqualTo("upstream_unreachable");
        assertThat(line.get("duration_ms").asDouble()).isGreaterThanOrEqualTo(0);
        assertThat(line.get("upstream").asText()).isEqualTo("http://127.0.0.1:9");
        assertThat(line.get("bytes_in").asLong()).isEqualTo(7);
        assertThat(line.get("bytes_out").asLong()).isEqualTo(42);
        assertThat(line.get("tier").asText()).isEqualTo("l1");
        assertThat(line.get("retries").asInt()).isEqualTo(1);
        assertThat(line.get("request_id").isNull()).isTrue();
        assertThat(written.count()).isEqualTo(1);

        ByteArrayOutputStream withQuery = new ByteArrayOutputStream();
        AccessLog queryLog = new AccessLog(withQuery, 64, true, written, dropped);
        queryLog.offer(record("/pay?card=4111\"x\n"));
        queryLog.close();
        assertThat(new ObjectMapper().readTree(withQuery.toString(StandardCharsets.UTF_8)).get("path").asText())
                .as("escaped, on one line").isEqualTo("/pay?card=4111\"x\n");
    }

    @Test
    void timesAreIsoUtcWithMilliseconds() {
        LogTime time = new LogTime();
        assertThat(time.append(new StringBuilder(), 1_764_644_939_005L).toString()).isEqualTo("2025-12-02T03:08:59.005Z");
        assertThat(time.append(new StringBuilder(), 1_764_644_939_999L).toString()).isEqualTo("2025-12-02T03:08:59.999Z");
        assertThat(time.append(new StringBuilder(), 1_764_644_940_010L).toString()).isEqualTo("2025-12-02T03:09:00.010Z");
        assertThat(time.append(new StringBuilder(), 0L).toString()).isEqualTo("1970-01-01T00:00:00.000Z");
    }

    @Test
    void aFullQueueDropsAndCountsWithoutWaiting() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        OutputStream stuck = new OutputStream() { // a disk or pipe that stopped taking writes
            @Override
            public void write(int b) {
                sink.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                writing.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                sink.write(b, off, len);
            }
        };
        AccessLog log = new AccessLog(stuck, 64, false, written, dropped);
        log.offer(record("/first"));
        assertThat(writing.await(10, TimeUnit.SECONDS)).isTrue();
        for (int i = 0; i < 100; i++) {
            log.offer(record("/" + i)); // with the writer stuck, an offer that waited would never return
        }
        assertThat(dropped.count()).as("64 queued, the rest dropped").isEqualTo(36);
        release.countDown();
        Poll.until(Duration.ofSeconds(10), "the queued lines written", () -> written.count() == 65);
        log.close();
        assertThat(sink.toString(StandardCharsets.UTF_8)).hasLineCount(65);
    }
}
