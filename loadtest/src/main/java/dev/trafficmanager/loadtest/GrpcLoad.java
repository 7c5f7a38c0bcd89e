package dev.trafficmanager.loadtest;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * gRPC unary calls as fast as they come back, over one channel (one HTTP/2 connection, as a gRPC
 * client keeps), with a fixed number of calls outstanding: a closed loop, like wrk. Prints one line:
 * {@code calls=N rps=R p50_us=.. p99_us=.. errors=E}.
 * <pre>
 * GrpcLoad --target 127.0.0.1:18106 [--seconds 10] [--warmup 2] [--concurrency 16] [--size 100]
 *          [--header name:value]...
 * </pre>
 */
public final class GrpcLoad {
    private GrpcLoad() {
    }

    public static void main(String[] args) throws Exception {
        String target = null;
        int seconds = 10;
        int warmup = 2;
        int concurrency = 16;
        int size = 100;
        Metadata headers = new Metadata();
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--target" -> target = args[i + 1];
                case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
                case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
                case "--concurrency" -> concurrency = Integer.parseInt(args[i + 1]);
                case "--size" -> size = Integer.parseInt(args[i + 1]);
                case "--header" -> {
                    String[] pair = args[i + 1].split(":", 2);
                    headers.put(Metadata.Key.of(pair[0], Metadata.ASCII_STRING_MARSHALLER), pair[1]);
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (target == null) {
            throw new IllegalArgumentException("--target host:port is required");
        }
        ManagedChannel managed = NettyChannelBuilder.forTarget(target).usePlaintext()
                .directExecutor().build(); // callbacks on the event loop: no thread hop per call
        try {
            Channel channel = ClientInterceptors.intercept(managed, MetadataUtils.newAttachHeadersInterceptor(headers));
            byte[] payload = new byte[size];
            run(channel, payload, concurrency, warmup, new Recorder(3), new AtomicLong());
            Recorder recorder = new Recorder(3);
            AtomicLong errors = new AtomicLong();
            long calls = run(channel, payload, concurrency, seconds, recorder, errors);
            Histogram latency = recorder.getIntervalHistogram();
            System.out.printf("calls=%d rps=%.0f p50_us=%d p99_us=%d errors=%d%n", calls, calls / (double) seconds,
                    latency.getValueAtPercentile(50) / 1000, latency.getValueAtPercentile(99) / 1000, errors.get());
        } finally {
            managed.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** {@code concurrency} chains of calls for {@code seconds}; returns the calls that succeeded. */
    private static long run(Channel channel, byte[] payload, int concurrency, int seconds, Recorder latency,
                            AtomicLong errors) throws InterruptedException {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong calls = new AtomicLong();
        CountDownLatch chainsDone = new CountDownLatch(concurrency);
        for (int i = 0; i < concurrency; i++) {
            call(channel, payload, running, calls, errors, latency, chainsDone);
        }
        Thread.sleep(seconds * 1000L);
        running.set(false);
        if (!chainsDone.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("calls still outstanding 30 s after the run");
        }
        return calls.get();
    }

    private static void call(Channel channel, byte[] payload, AtomicBoolean running, AtomicLong calls, AtomicLong errors,
                             Recorder latency, CountDownLatch chainsDone) {
        long start = System.nanoTime();
        ClientCalls.asyncUnaryCall(channel.newCall(GrpcEcho.ECHO, CallOptions.DEFAULT), payload, new StreamObserver<>() {
            @Override
            public void onNext(byte[] value) {
            }

            @Override
            public void onError(Throwable t) {
                errors.incrementAndGet();
                next();
            }

            @Override
            public void onCompleted() {
                latency.recordValue(Math.min(System.nanoTime() - start, 60_000_000_000L));
                calls.incrementAndGet();
                next();
            }

            private void next() {
                if (running.get()) {
                    call(channel, payload, running, calls, errors, latency, chainsDone);
                } else {
                    chainsDone.countDown();
                }
            }
        });
    }
}
