package dev.trafficmanager.proxy.lookup;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A look at an existing L1 file's header before Chronicle Map opens it. Chronicle waits up to a
 * minute for the header of a file whose "ready" bit is not set, as when another process is still
 * creating it, and a garbage file looks just like one; it also keeps the file open JVM-wide while
 * it waits, so the path cannot be created anew meanwhile. Here a header not ready within
 * {@link #READY_WAIT_MILLIS} (a creator takes milliseconds) or not Chronicle Map's is refused at once.
 */
final class L1Header {
    /** Chronicle's self-bootstrapping header: 8 bytes, a size word, then the map's description. */
    private static final int SIZE_WORD_OFFSET = 8;
    private static final int SIZE_MASK = 0x3FFFFFFF;
    private static final byte[] DESCRIPTION = "!net.openhft.chronicle.map.".getBytes(StandardCharsets.US_ASCII);
    static final long READY_WAIT_MILLIS = 2000;

    private L1Header() {
    }

    /** Returns when {@code file} is absent, empty (Chronicle creates it) or has a ready header; otherwise throws saying why. */
    static void check(Path file) throws IOException {
        if (!Files.exists(file) || Files.size(file) == 0) {
            return;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_WAIT_MILLIS);
        while (true) {
            String problem = problem(file);
            if (problem == null) {
                return;
            }
            if (!problem.startsWith("not ready") || System.nanoTime() - deadline > 0) {
                throw new IOException("not an L1 file: " + problem);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the header", e);
            }
        }
    }

    private static String problem(Path file) throws IOException {
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            long length = in.length();
            int headerLength = SIZE_WORD_OFFSET + 4 + DESCRIPTION.length;
            if (length < headerLength) {
                return length + " bytes, shorter than a header";
            }
            byte[] head = new byte[headerLength];
            in.readFully(head);
            int sizeWord = ByteBuffer.wrap(head, SIZE_WORD_OFFSET, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            if (sizeWord <= 0) {
                return "not ready: its header was never completed (garbage, or a process that died creating it)";
            }
            if ((sizeWord & SIZE_MASK) > length) {
                return "a header of " + (sizeWord & SIZE_MASK) + " bytes in a file of " + length;
            }
            for (int i = 0; i < DESCRIPTION.length; i++) {
                if (head[SIZE_WORD_OFFSET + 4 + i] != DESCRIPTION[i]) {
                    return "no Chronicle Map header";
                }
            }
            return null;
        }
    }
}
