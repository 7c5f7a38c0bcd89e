package dev.trafficmanager.proxy.lookup;

import dev.trafficmanager.proxy.metrics.ProxyMetrics;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.jctools.queues.MpscArrayQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that writes L1. Chronicle Map writes take a lock other sidecar processes may hold,
 * so event loops and the Kafka consumer hand their writes over through a bounded lock-free
 * multi-producer queue (JCTools) instead of writing themselves.
 *
 * <p>Lookup results are a cache fill: when the queue is full they are dropped (and counted), the
 * near cache already has them. Route events are never dropped: their producer waits for room.
 */
final class L1Writer {
    private static final Logger log = LoggerFactory.getLogger(L1Writer.class);
    private static final int CAPACITY = 1 << 12;
    private static final long SWEEP_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** {@code live}: an event that arrived after the sidecar caught up with the topic (see {@link #event}). */
    private record Write(RouteEntry entry, boolean event, boolean live, long askedAt) {
    }

    private final MpscArrayQueue<Write> queue = new MpscArrayQueue<>(CAPACITY);
    private final L1Store l1;
    private final NearCache near;
    private final Consumer<String> onEventApplied;
    private final ProxyMetrics metrics;
    private final AtomicLong eventsEnqueued = new AtomicLong();
    private final AtomicLong eventsDone = new AtomicLong();
    private final LongSupplier clock;
    private final long negativeTtlMillis;
    private final Thread thread;
    private static final long FULL_WARNING_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    private final io.micrometer.core.instrument.Counter full;
    private long lastFullWarning = System.nanoTime() - FULL_WARNING_EVERY_NANOS;
    private long nextSweepNanos;
    private volatile boolean running = true;
    /** Why the thread stopped on its own, or null. */
    private volatile String failure;

    /** {@code onEventApplied} runs on the writer thread with the key of every live event written. */
    L1Writer(L1Store l1, NearCache near, Consumer<String> onEventApplied, ProxyMetrics metrics, LongSupplier clock,
             long negativeTtlMillis) {
        this.clock = clock;
        this.negativeTtlMillis = negativeTtlMillis;
        this.nextSweepNanos = System.nanoTime() + SWEEP_EVERY_NANOS;
        this.l1 = l1;
        this.near = near;
        this.onEventApplied = onEventApplied;
        this.metrics = metrics;
        this.full = metrics.counter("tm_l1_full_writes", "entries not written to L1 because it was full (served from "
                + "the near cache, then looked up again in Redis and PostgreSQL)");
        metrics.gauge("tm_l1_free_percent", "room left in the L1 file, in percent", l1::freePercent);
        this.thread = new Thread(this::run, "l1-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * A lookup result; {@code askedAt} as in {@link RouteEntry#replaces}. Returns false (and counts
     * it) when the queue is full. Never blocks.
     */
    boolean fill(RouteEntry entry, long askedAt) {
        if (queue.offer(new Write(entry, false, false, askedAt))) {
            LockSupport.unpark(thread);
            return true;
        }
        metrics.l1WritesDropped().increment();
        return false;
    }

    /**
     * A route event's state; waits for room, so events are never lost. Returns the event's sequence
     * number: {@link #eventsDone()} reaches it once the event is in L1. Only {@code live} events
     * (read after catching up) run {@code onEventApplied}: the ones read back from the topic at start
     * were handled when they happened, and a restarting fleet must not send Redis a delete per route.
     */
    long event(RouteEntry entry, boolean live) throws InterruptedException {
        Write write = new Write(entry, true, live, RouteEntry.NOT_ASKED);
        long sequence = eventsEnqueued.incrementAndGet();
        while (!queue.offer(write)) {
            if (!running) {
                throw new InterruptedException("the L1 writer has stopped");
            }
            LockSupport.unpark(thread);
            Thread.sleep(1);
        }
        LockSupport.unpark(thread);
        return sequence;
    }

    /** How many events have been written (or found older than L1). */
    long eventsDone() {
        return eventsDone.get();
    }

    private void run() {
        try {
            while (running || !queue.isEmpty()) {
                Write write = queue.relaxedPoll();
                if (write == null) {
                    sweepIfDue();
                    // Producers unpark this thread after each offer, so an idle writer costs no CPU and
                    // a new write is applied at once; the timeout only paces the sweep and the stop check.
                    LockSupport.parkNanos(IDLE_PARK_NANOS);
                    continue;
                }
                apply(write);
            }
        } catch (Throwable e) { // an Error too: /healthz must tell, never a silent thread death
            failure = "the L1 writer stopped: " + e;
            running = false;
            log.error("the L1 writer stopped; /healthz answers 503 until the sidecar is restarted", e);
        }
    }

    /** Why the writer thread stopped on its own, or null while it runs (or was closed). */
    String failure() {
        return failure;
    }

    /** Once a minute, when idle: negative entries past their TTL leave L1. */
    private void sweepIfDue() {
        if (System.nanoTime() < nextSweepNanos) {
            return;
        }
        nextSweepNanos = System.nanoTime() + SWEEP_EVERY_NANOS;
        try {
            int removed = l1.removeAbsentBefore(clock.getAsLong() - negativeTtlMillis);
            if (removed > 0) {
                log.debug("removed {} expired negative entries from L1", removed);
            }
        } catch (RuntimeException e) {
            log.error("cannot sweep expired negative entries from L1", e);
        }
    }

    private void apply(Write write) {
        RouteEntry entry = write.entry();
        boolean stored = false;
        RouteEntry newest = entry;
        try {
            // A nearly full L1 keeps its room for routes: unknown keys stay in the near cache only.
            stored = (entry.exists() || !l1.nearlyFull()) && l1.apply(entry, write.askedAt(), clock.getAsLong());
            if (!stored) {
                RouteEntry inL1 = l1.get(entry.key(), entry.key());
                newest = inL1 != null ? inL1 : entry;
            }
        } catch (L1Store.Full e) {
            full.increment();
            long now = System.nanoTime();
            if (now - lastFullWarning > FULL_WARNING_EVERY_NANOS) {
                lastFullWarning = now;
                log.warn("{} (warned once a minute; tm_l1_full_writes counts them)", e.getMessage());
            }
        } catch (L1Store.LockedSegment e) {
            metrics.l1LockBusy().increment();
            log.warn("{}; the write goes to the near cache only", e.getMessage());
        } catch (RuntimeException e) {
            // A full or broken L1 must not lose the event: the near cache and Redis still learn it.
            log.error("cannot write route {} to L1", entry.key(), e);
        }
        near.offer(newest, newest == entry ? write.askedAt() : RouteEntry.NOT_ASKED, clock.getAsLong());
        if (write.event()) {
            (stored ? metrics.eventsApplied() : metrics.eventsIgnored()).increment();
            if (write.live()) {
                onEventApplied.accept(entry.key());
            }
            eventsDone.incrementAndGet();
        }
    }

    /** Stops after writing what is queued; returns whether the thread ended within 5 s. */
    boolean close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }
}
