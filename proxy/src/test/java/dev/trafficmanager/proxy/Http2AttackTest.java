package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trafficmanager.testing.LocalStack;
import dev.trafficmanager.testing.Poll;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad and hostile HTTP/2 input, in raw frames: each ends with GOAWAY and a closed connection (or,
 * for a header list just over the limit, a 431 on its stream), the sidecar goes on serving, and
 * the memory its buffers hold comes back to where it was.
 */
@ExtendWith(LocalStack.class)
@Timeout(120)
class Http2AttackTest {
    private static final int PROTOCOL_ERROR = 1;
    private static final int ENHANCE_YOUR_CALM = 11;
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static H2Upstream upstream;
    private static Sidecar sidecar;
    private static String service;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        upstream = new H2Upstream();
        Map<String, String> env = harness.sidecarEnv(dir.resolve("routes.l1"));
        sidecar = SidecarHarness.startReady(env);
        service = harness.newRoute(sidecar, upstream.url());
    }

    @AfterAll
    static void stop() throws Exception {
        sidecar.close();
        upstream.close();
        harness.close();
    }

    private static byte[] routedGet(int stream, int flags) {
        return RawH2.frame(RawH2.HEADERS, flags, stream,
                RawH2.getBlock("x-tm-service", service, "x-tm-version", "v1"));
    }

    /** The sidecar still answers an ordinary request over a new connection. */
    private static void stillServes() throws Exception {
        try (H2Client client = new H2Client(sidecar.port())) {
            assertThat(client.get("/after", Map.of("x-tm-service", service, "x-tm-version", "v1")).status()).isEqualTo("200");
        }
    }

    private static long pinned() {
        return PooledByteBufAllocator.DEFAULT.pinnedDirectMemory() + PooledByteBufAllocator.DEFAULT.pinnedHeapMemory();
    }

    /** A preface that breaks off is no HTTP/2: read as HTTP/1.1, which refuses it (400) and closes; the socket's end shows it. */
    @Test
    void aBadPrefaceIsRefusedAsHttp11() throws Exception {
        try (java.net.Socket socket = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), sidecar.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            // "PRI *" gets 400 (no such target); the rest of the broken preface is malformed HTTP: 400 and close.
            assertThat(answer).startsWith("HTTP/1.1 400").contains("\"error\":\"bad_request\"").endsWith("}\n");
            assertThat(answer.toLowerCase()).contains("connection: close");
        }
        stillServes();
    }

    @Test
    void aFirstFrameOtherThanSettingsIsAProtocolError() throws Exception {
        try (RawH2 raw = new RawH2(sidecar.port())) {
            raw.write(RawH2.concat(RawH2.PREFACE, routedGet(1, RawH2.END_HEADERS | RawH2.END_STREAM)));
            RawH2.Frame goAway = raw.readUntil(RawH2.GOAWAY);
            assertThat(goAway).isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(PROTOCOL_ERROR);
            raw.awaitClose();
        }
        stillServes();
    }

    @Test
    void aHeaderListJustOverTheLimitGets431AndTheConnectionLivesOn() throws Exception {
        try (RawH2 raw = new RawH2(sidecar.port())) {
            raw.handshake();
            String big = "x".repeat(16_300); // with the rest (32 bytes a field more), over TM_PROXY_MAX_HEADER_SIZE (16384)
            byte[] block = RawH2.getBlock("x-tm-service", service, "x-tm-version", "v1", "x-big", big);
            // Over two frames: one may carry at most 16 KiB (SETTINGS_MAX_FRAME_SIZE).
            raw.write(RawH2.concat(RawH2.frame(RawH2.HEADERS, RawH2.END_STREAM, 1, Arrays.copyOf(block, 10_000)),
                    RawH2.frame(RawH2.CONTINUATION, RawH2.END_HEADERS, 1, Arrays.copyOfRange(block, 10_000, block.length))));
            RawH2.Frame head = raw.readUntil(RawH2.HEADERS);
            assertThat(head).isNotNull();
            assertThat(new String(head.payload(), StandardCharsets.ISO_8859_1)).contains("431");
            raw.write(routedGet(3, RawH2.END_HEADERS | RawH2.END_STREAM));
            RawH2.Frame next = raw.readUntil(RawH2.HEADERS);
            assertThat(next.stream()).isEqualTo(3);
        }
    }

    @Test
    void aContinuationFloodEndsWithGoAway() throws Exception {
        long before = pinned();
        try (RawH2 raw = new RawH2(sidecar.port())) {
            raw.handshake();
            byte[] start = RawH2.getBlock("x-tm-service", service, "x-flood", "y".repeat(10_000));
            raw.write(RawH2.frame(RawH2.HEADERS, 0, 1, start)); // no END_HEADERS: the block goes on
            byte[] more = new byte[16_000];
            Arrays.fill(more, (byte) 'z');
            for (int i = 0; i < 500 && raw.write(RawH2.frame(RawH2.CONTINUATION, 0, 1, more)); i++) {
                // 8 MB offered; the sidecar must stop reading long before
            }
            RawH2.Frame goAway = raw.readUntil(RawH2.GOAWAY);
            assertThat(goAway).as("GOAWAY").isNotNull();
            raw.awaitClose();
        }
        awaitPinnedBackTo(before);
        stillServes();
    }

    @Test
    void aRapidResetFloodEndsWithGoAway() throws Exception {
        long before = pinned();
        try (RawH2 raw = new RawH2(sidecar.port())) {
            raw.handshake();
            byte[] cancel = {0, 0, 0, 8}; // CANCEL
            for (int stream = 1; stream < 2000 * 2; stream += 2) {
                if (!raw.write(RawH2.concat(routedGet(stream, RawH2.END_HEADERS | RawH2.END_STREAM),
                        RawH2.frame(RawH2.RST_STREAM, 0, stream, cancel)))) {
                    break;
                }
            }
            RawH2.Frame goAway = raw.readUntil(RawH2.GOAWAY);
            assertThat(goAway).as("GOAWAY").isNotNull();
            assertThat(goAway.errorCode()).isEqualTo(ENHANCE_YOUR_CALM);
            raw.awaitClose();
        }
        awaitPinnedBackTo(before);
        stillServes();
    }

    @Test
    void settingsAndPingFloodsEndWithGoAway() throws Exception {
        for (int type : new int[] {RawH2.SETTINGS, RawH2.PING}) {
            try (RawH2 raw = new RawH2(sidecar.port())) {
                raw.handshake();
                byte[] payload = type == RawH2.PING ? new byte[8] : new byte[0];
                byte[] frame = RawH2.frame(type, 0, 0, payload);
                for (int i = 0; i < 5000 && raw.write(frame); i++) {
                    // each asks for an acknowledgement
                }
                RawH2.Frame goAway = raw.readUntil(RawH2.GOAWAY);
                assertThat(goAway).as("GOAWAY after a flood of frame type " + type).isNotNull();
                assertThat(goAway.errorCode()).isEqualTo(ENHANCE_YOUR_CALM);
                raw.awaitClose();
            }
        }
        stillServes();
    }

    /** The attack's buffers are all given back: what the allocator pins returns to about where it was. */
    private static void awaitPinnedBackTo(long before) {
        Poll.until(Duration.ofSeconds(10), "pinned buffer memory back to " + before + " bytes (+1 MiB)",
                () -> pinned() <= before + (1 << 20));
    }
}
