package dev.trafficmanager.loadtest;

import dev.trafficmanager.proxy.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Open-model HTTP load at a constant rate, measured without coordinated omission: request {@code i}
 * is due at {@code start + i / rate} whether or not earlier ones have been answered, and its latency
 * counts from that due time. A request that finds every connection busy waits in a queue, and the
 * wait is part of its latency, so a stall of the target shows in every request it delayed (a
 * closed-model tool like wrk would send nothing during the stall and hide it).
 *
 * <p>Everything runs on one event loop thread: keep-alive HTTP/1.1 connections opened before the
 * clock starts, one request at a time per connection, the request bytes encoded once, the clock
 * waking every 0.1 ms at most ({@link #TICK_NANOS}). Requests due
 * during the warm-up are sent but not recorded. Run as a program, it prints one line of
 * {@code name=value} pairs (latencies in microseconds); see {@link #main}.
 */
public final class OpenLoad {

    /** One run: where, which headers, how fast, for how long, over how many connections. */
    public record Options(String host, int port, String path, Map<String, String> headers, int rate,
                          Duration warmup, Duration duration, int connections) {
        public Options {
            if (rate < 1 || connections < 1 || duration.isNegative() || duration.isZero() || warmup.isNegative()) {
                throw new IllegalArgumentException("rate, connections and duration must be positive, warm-up not negative");
            }
        }
    }

    /**
     * What one run measured, over the requests due after the warm-up.
     *
     * @param errors responses other than 2xx, plus requests whose connection failed
     * @param unsent requests still queued or unanswered when the run ended (the target fell behind);
     *               they are in the histogram with the wait they had reached, a lower bound
     */
    public record Result(int rate, double seconds, long completed, long errors, long unsent, Histogram latencyMicros) {
        public double achievedRate() {
            return completed / seconds;
        }

        public String summary() {
            Histogram h = latencyMicros;
            return String.format("rate=%d achieved=%.0f completed=%d errors=%d unsent=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d",
                    rate, achievedRate(), completed, errors, unsent, h.getValueAtPercentile(50), h.getValueAtPercentile(90),
                    h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue());
        }
    }

    private static final long HIGHEST_MICROS = TimeUnit.MINUTES.toMicros(10);
    /**
     * How often the clock wakes up to send what is due: a timer per request would cost the generator
     * a system call per request, which on a 2-core machine takes CPU from the target. A request is
     * sent at most this late; its latency still counts from its due time.
     */
    static final long TICK_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    /** How long answers to the last requests are awaited after the schedule ends. */
    private static final long DRAIN_NANOS = TimeUnit.SECONDS.toNanos(5);

    private OpenLoad() {
    }

    public static Result run(Options options) throws Exception {
        Transport transport = Transport.select(Transport.EPOLL);
        EventLoopGroup group = transport.group(1, "open-load");
        Run run = new Run(options, transport, group.next());
        try {
            group.next().execute(run::connect);
            return run.done.get(options.warmup().plus(options.duration()).toSeconds() + 60, TimeUnit.SECONDS);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            run.request.release();
        }
    }

    /** The state of one run, touched only by its event loop. */
    private static final class Run {
        final Options options;
        final EventLoop loop;
        final Bootstrap bootstrap;
        final ByteBuf request;
        final CompletableFuture<Result> done = new CompletableFuture<>();
        final Histogram histogram = new Histogram(HIGHEST_MICROS, 3);
        final ArrayDeque<Connection> idle = new ArrayDeque<>();
        final List<Connection> connections = new ArrayList<>();
        long[] queue = new long[1 << 16]; // due times of requests waiting for a connection, a ring
        int queueHead;
        int queueSize;
        long start;
        long measureFrom;
        long end;
        long index;
        long nextDue;
        long completed;
        long errors;
        boolean scheduleOver;

        Run(Options options, Transport transport, EventLoop loop) {
            this.options = options;
            this.loop = loop;
            this.bootstrap = new Bootstrap().group(loop).channel(transport.socketChannel())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2000);
            StringBuilder head = new StringBuilder("GET ").append(options.path()).append(" HTTP/1.1\r\n")
                    .append("Host: ").append(options.host()).append(':').append(options.port()).append("\r\n");
            options.headers().forEach((name, value) -> head.append(name).append(": ").append(value).append("\r\n"));
            byte[] bytes = head.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
            this.request = Unpooled.directBuffer(bytes.length).writeBytes(bytes); // released by run()
        }

        void connect() {
            for (int i = 0; i < options.connections(); i++) {
                new Connection(this).open();
            }
        }

        /** A connection is up; when all are, the clock starts. */
        void connected(Connection connection) {
            connections.add(connection);
            idle.add(connection);
            if (start == 0 && idle.size() == options.connections()) {
                start = System.nanoTime();
                measureFrom = start + options.warmup().toNanos();
                end = measureFrom + options.duration().toNanos();
                nextDue = start;
                tick();
            } else if (start != 0) {
                dispatch();
            }
        }

        void failedToConnect(Throwable cause) {
            if (start == 0) {
                done.completeExceptionally(new IllegalStateException("cannot connect to " + options.host() + ":" + options.port(), cause));
            } else {
                loop.schedule(() -> new Connection(this).open(), 100, TimeUnit.MILLISECONDS);
            }
        }

        /** Queues every request due by now, sends what the idle connections can take, and waits for the next due time. */
        void tick() {
            long now = System.nanoTime();
            while (nextDue <= now && nextDue < end) {
                enqueue(nextDue);
                index++;
                nextDue = start + (long) (index * 1e9 / options.rate());
            }
            dispatch();
            if (nextDue < end) {
                loop.schedule(this::tick, Math.max(TICK_NANOS, nextDue - now), TimeUnit.NANOSECONDS);
            } else {
                scheduleOver = true;
                loop.schedule(this::finish, end + DRAIN_NANOS - now, TimeUnit.NANOSECONDS);
                finishIfDrained();
            }
        }

        void dispatch() {
            while (queueSize > 0 && !idle.isEmpty()) {
                long due = queue[queueHead];
                queueHead = (queueHead + 1) & (queue.length - 1);
                queueSize--;
                idle.poll().send(due);
            }
        }

        void enqueue(long due) {
            if (queueSize == queue.length) {
                long[] bigger = new long[queue.length * 2];
                for (int i = 0; i < queueSize; i++) {
                    bigger[i] = queue[(queueHead + i) & (queue.length - 1)];
                }
                queue = bigger;
                queueHead = 0;
            }
            queue[(queueHead + queueSize) & (queue.length - 1)] = due;
            queueSize++;
        }

        void answered(Connection connection, long due, boolean ok) {
            long now = System.nanoTime();
            if (due >= measureFrom) {
                histogram.recordValue(Math.min(HIGHEST_MICROS, (now - due) / 1000));
                completed++;
                if (!ok) {
                    errors++;
                }
            }
            idle.add(connection);
            dispatch();
            finishIfDrained();
        }

        void failed(long due) {
            if (due >= measureFrom) {
                errors++;
            }
            if (!done.isDone()) {
                new Connection(this).open();
            }
        }

        void finishIfDrained() {
            if (scheduleOver && queueSize == 0 && idle.size() == options.connections()) {
                finish();
            }
        }

        void finish() {
            if (done.isDone()) {
                return;
            }
            long now = System.nanoTime();
            long unsent = 0;
            for (int i = 0; i < queueSize; i++) {
                long due = queue[(queueHead + i) & (queue.length - 1)];
                if (due >= measureFrom) {
                    histogram.recordValue(Math.min(HIGHEST_MICROS, (now - due) / 1000));
                    unsent++;
                }
            }
            for (Connection connection : List.copyOf(connections)) {
                if (connection.due >= measureFrom && connection.busy) {
                    histogram.recordValue(Math.min(HIGHEST_MICROS, (now - connection.due) / 1000));
                    unsent++;
                }
                connection.close();
            }
            done.complete(new Result(options.rate(), options.duration().toNanos() / 1e9, completed, errors, unsent, histogram));
        }
    }

    /**
     * One keep-alive connection carrying one request at a time; a response that {@link ResponseFramer}
     * cannot frame fails its request and the connection is replaced.
     */
    private static final class Connection extends ChannelInboundHandlerAdapter {
        final Run run;
        final ResponseFramer framer = new ResponseFramer();
        Channel channel;
        long due;
        boolean busy;

        Connection(Run run) {
            this.run = run;
        }

        void open() {
            run.bootstrap.clone().handler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(Connection.this);
                }
            }).connect(run.options.host(), run.options.port()).addListener((ChannelFuture f) -> {
                if (f.isSuccess()) {
                    channel = f.channel(); // the promise's listeners run before channelActive
                    run.connected(this);
                } else {
                    run.failedToConnect(f.cause());
                }
            });
        }

        void send(long dueAt) {
            due = dueAt;
            busy = true;
            framer.reset();
            channel.writeAndFlush(run.request.retainedDuplicate(), channel.voidPromise());
        }

        void close() {
            if (channel != null) {
                channel.close();
            }
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channel = ctx.channel();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                ResponseFramer.Progress progress = busy ? framer.consume(in) : ResponseFramer.Progress.MALFORMED;
                if (progress == ResponseFramer.Progress.COMPLETE) {
                    busy = false;
                    run.answered(this, due, framer.status() / 100 == 2);
                } else if (progress == ResponseFramer.Progress.MALFORMED) {
                    ctx.close(); // bytes nobody asked for, or a response we cannot frame
                }
            } finally {
                in.release();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            run.connections.remove(this);
            run.idle.remove(this);
            if (busy) {
                busy = false;
                run.failed(due);
            } else if (!run.done.isDone()) {
                run.failed(Long.MIN_VALUE); // an idle connection the target closed: replaced, not an error
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * {@code OpenLoad --url http://127.0.0.1:8080/path --rate 5000 --seconds 15 [--warmup 3]
     * [--connections 16] [--header name:value ...]}: prints the result's summary line, and with
     * {@code --histogram FILE} the full percentile distribution (HdrHistogram's format, microseconds).
     */
    public static void main(String[] args) throws Exception {
        Args given = new Args(args, "--url URL --rate N --seconds N [--warmup N] [--connections N] "
                + "[--header name:value]... [--histogram FILE]");
        Map<String, String> headers = new LinkedHashMap<>();
        for (String header : given.all("--header")) {
            String[] pair = header.split(":", 2);
            if (pair.length != 2) {
                throw new IllegalArgumentException("--header " + header + " (expected: name:value)");
            }
            headers.put(pair[0].trim(), pair[1].trim());
        }
        URI url = URI.create(given.require("--url"));
        Options options = new Options(url.getHost(), url.getPort() == -1 ? 80 : url.getPort(),
                url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath(), headers,
                Integer.parseInt(given.require("--rate")),
                Duration.ofSeconds(Long.parseLong(given.get("--warmup", "3"))),
                Duration.ofSeconds(Long.parseLong(given.require("--seconds"))),
                Integer.parseInt(given.get("--connections", "16")));
        Result result = run(options);
        System.out.println(result.summary());
        String histogramFile = given.get("--histogram", null);
        if (histogramFile != null) {
            try (PrintStream out = new PrintStream(histogramFile, StandardCharsets.UTF_8)) {
                result.latencyMicros().outputPercentileDistribution(out, 1.0);
            }
        }
    }
}
