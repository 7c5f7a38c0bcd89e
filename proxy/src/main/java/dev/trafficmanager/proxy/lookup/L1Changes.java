package dev.trafficmanager.proxy.lookup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A change counter beside the L1 file ({@code <file>.changes}, 8 bytes, memory-mapped): the L1
 * owner adds one after every write that changes what a key routes to, and a sidecar that only reads
 * L1 (node mode) compares it with the value it saw before it copied entries into its near cache, so
 * its near cache never serves an entry older than L1. A read is one volatile load from shared memory.
 *
 * <p>Chosen over invalidations pushed over the agent's socket: it costs the agent nothing per
 * sidecar, needs no message per change, and stays exact while the socket reconnects.
 */
final class L1Changes {
    private static final VarHandle LONG = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private final MappedByteBuffer counter;

    private L1Changes(MappedByteBuffer counter) {
        this.counter = counter;
    }

    static L1Changes open(Path l1File) {
        Path file = l1File.resolveSibling(l1File.getFileName() + ".changes");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            return new L1Changes(channel.map(FileChannel.MapMode.READ_WRITE, 0, Long.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map the L1 change counter " + file, e);
        }
    }

    long get() {
        return (long) LONG.getVolatile(counter, 0);
    }

    void bump() {
        LONG.getAndAdd(counter, 0, 1L);
    }
}
