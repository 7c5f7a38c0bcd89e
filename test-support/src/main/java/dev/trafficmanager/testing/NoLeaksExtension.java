package dev.trafficmanager.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reported a leaked buffer while it ran. Leaks surface only after the
 * buffer's tracker is garbage collected and a later allocation polls the detector, so this collects
 * garbage and allocates a few times before it looks. Registered for every class by JUnit's extension
 * auto-detection (see junit-platform.properties).
 */
public final class NoLeaksExtension implements AfterAllCallback {
    @Override
    public void afterAll(ExtensionContext context) {
        LeakRecorder.install();
        for (int round = 0; round < 3; round++) {
            System.gc();
            System.runFinalization();
            allocateAndRelease();
        }
        assertEquals(List.of(), LeakRecorder.reports(),
                "Netty reported leaked buffers (checked after " + context.getDisplayName() + ")");
    }

    private static void allocateAndRelease() {
        ByteBuf pooled = PooledByteBufAllocator.DEFAULT.directBuffer(16);
        pooled.release();
        ByteBuf unpooled = UnpooledByteBufAllocator.DEFAULT.heapBuffer(16);
        unpooled.release();
    }
}
