package dev.trafficmanager.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Proves the leak check can fail: a buffer dropped without release is reported. */
class LeakRecorderTest {

    @Test
    void aBufferDroppedWithoutReleaseIsReported() {
        assertTrue(ResourceLeakDetector.getLevel() == ResourceLeakDetector.Level.PARANOID,
                "tests run with -Dio.netty.leakDetection.level=paranoid");
        leakOne();
        Poll.until(Duration.ofSeconds(20), "a leak report", () -> {
            System.gc();
            PooledByteBufAllocator.DEFAULT.directBuffer(16).release(); // polls the detector
            return LeakRecorder.reports().stream().anyMatch(r -> r.contains("leakOne"));
        });
        LeakRecorder.clear(); // the leak was deliberate; NoLeaksExtension checks the rest
    }

    private static void leakOne() {
        ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        leaked.writeInt(42);
    }
}
