package dev.trafficmanager.proxy.observe;

import io.micrometer.core.instrument.Counter;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.MpscArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log's writer: event loops {@link #offer} ended requests into a bounded lock-free queue
 * and never wait; one thread formats them as JSON lines and writes them to standard output or a
 * file (appended to, so a rotation by copy-and-truncate works). When the queue is full the line is
 * dropped and counted ({@code tm_access_log_dropped_total}); a write that fails is counted the same
 * way and warned about once a minute. The writer looks again every few milliseconds when idle.
 */
public final class AccessLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private static final long WARNING_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** A line waits at most about this long in the buffer under steady traffic. */
    private static final long FLUSH_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private final MpscArrayQueue<AccessRecord> queue;
    private final OutputStream out;
    private final boolean withQuery;
    private final Counter written;
    private final Counter dropped;
    private final Thread writer;
    private volatile boolean running = true;
    private long lastWarning;

    AccessLog(OutputStream out, int capacity, boolean withQuery, Counter written, Counter dropped) {
        this.queue = new MpscArrayQueue<>(capacity);
        this.out = out;
        this.withQuery = withQuery;
        this.written = written;
        this.dropped = dropped;
        this.writer = new Thread(this::drainLoop, "access-log");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /** The log {@code config} asks for, or null when it is off; the file is opened (and its directory made) now. */
    public static AccessLog open(ObserveConfig config, Counter written, Counter dropped) {
        if (!config.logging()) {
            return null;
        }
        OutputStream out;
        if (config.accessLog().equals("stdout")) {
            out = new FileOutputStream(FileDescriptor.out);
        } else {
            Path path = Path.of(config.accessLog());
            try {
                if (path.toAbsolutePath().getParent() != null) {
                    Files.createDirectories(path.toAbsolutePath().getParent());
                }
                out = Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                        StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new IllegalArgumentException("TM_ACCESS_LOG: cannot open " + path + " to append to (" + e + ")", e);
            }
        }
        return new AccessLog(new BufferedOutputStream(out, 64 * 1024), config.queueSize(), config.logQuery(), written, dropped);
    }

    /** Hands an ended request to the writer; never blocks: a full queue drops it (counted). */
    public void offer(AccessRecord record) {
        if (!running || !queue.offer(record)) {
            dropped.increment();
        }
    }

    private void drainLoop() {
        StringBuilder line = new StringBuilder(512);
        LogTime time = new LogTime();
        boolean unflushed = false;
        long lines = 0; // written since the counter was last told: once per pause, not per line
        long flushedAt = System.nanoTime();
        while (running || !queue.isEmpty()) {
            AccessRecord record = queue.poll();
            if (record == null) {
                // Flushed after a quiet pause, not whenever the queue runs dry: under load a write
                // system call per 64 KiB rather than per few lines; idle, a line is out within ~2 pauses.
                written.increment(lines);
                lines = 0;
                if (unflushed && queue.isEmpty()) {
                    LockSupport.parkNanos(IDLE_PARK_NANOS);
                    if (queue.isEmpty()) {
                        flush();
                        flushedAt = System.nanoTime();
                        unflushed = false;
                    }
                    continue;
                }
                LockSupport.parkNanos(IDLE_PARK_NANOS);
                continue;
            }
            unflushed = true;
            line.setLength(0);
            record.appendJson(line, withQuery, time);
            line.append('\n');
            try {
                out.write(line.toString().getBytes(StandardCharsets.UTF_8));
                lines++;
                if (System.nanoTime() - flushedAt > FLUSH_INTERVAL_NANOS) { // steady traffic never pauses 5 ms
                    flush();
                    flushedAt = System.nanoTime();
                }
            } catch (IOException e) {
                failed(e);
            }
        }
        written.increment(lines);
        flush();
    }

    private void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            failed(e);
        }
    }

    private void failed(IOException e) {
        dropped.increment();
        long now = System.nanoTime();
        if (lastWarning == 0 || now - lastWarning > WARNING_INTERVAL_NANOS) {
            lastWarning = now;
            log.warn("cannot write the access log (lines are dropped and counted in tm_access_log_dropped_total): {}", e.toString());
        }
    }

    /** Writes what is queued, then stops the writer (waiting up to 2 s). */
    @Override
    public void close() {
        running = false;
        LockSupport.unpark(writer);
        try {
            writer.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
