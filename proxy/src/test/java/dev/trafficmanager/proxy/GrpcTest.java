package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trafficmanager.testing.LocalStack;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * grpc-java's client and server with the sidecar between them, over HTTP/2 both ways: every kind of
 * call, large messages under flow control, a slow reader that stalls no other call, deadlines and
 * cancellation reaching the server, and each error the sidecar makes itself as a gRPC status. The
 * client names the service by its authority, as an application calling {@code payments:80} would.
 */
@ExtendWith(LocalStack.class)
@Timeout(120)
class GrpcTest {
    private static final int MIB = 1 << 20;
    @TempDir
    static Path dir;
    private static SidecarHarness harness;
    private static EchoService echo;
    private static Server server;
    private static Sidecar sidecar;
    private static String service;
    private static String deadService;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() throws Exception {
        harness = SidecarHarness.start();
        echo = new EchoService();
        server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(echo.definition()).maxInboundMessageSize(16 * MIB).build().start();
        Map<String, String> env = harness.transparentSidecarEnv(dir.resolve("routes.l1"));
        env.put("TM_PROXY_EVENT_LOOPS", "1"); // every call shares one upstream connection
        sidecar = SidecarHarness.startReady(env);
        service = harness.newRoute(sidecar, "http://127.0.0.1:" + server.getPort());
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadService = harness.newRoute(sidecar, "http://127.0.0.1:" + closed.getLocalPort());
        }
        channel = channel(service);
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        sidecar.close();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        harness.close();
    }

    private static ManagedChannel channel(String authority) {
        return NettyChannelBuilder.forAddress("127.0.0.1", sidecar.port()).overrideAuthority(authority)
                .usePlaintext().maxInboundMessageSize(16 * MIB).build();
    }

    private static CallOptions within(long seconds) {
        return CallOptions.DEFAULT.withDeadlineAfter(seconds, TimeUnit.SECONDS);
    }

    private static byte[] random(int size) {
        byte[] bytes = new byte[size];
        ThreadLocalRandom.current().nextBytes(bytes);
        return bytes;
    }

    @Test
    void unaryServerClientAndBidiStreamingCallsPassThrough() throws Exception {
        byte[] request = random(1000);
        assertThat(ClientCalls.blockingUnaryCall(channel, EchoService.UNARY, within(10), request)).isEqualTo(request);

        Iterator<byte[]> stream = ClientCalls.blockingServerStreamingCall(channel, EchoService.SERVER_STREAM, within(10),
                EchoService.ints(50, 1000));
        int received = 0;
        while (stream.hasNext()) {
            assertThat(stream.next()).hasSize(1000).startsWith((byte) received++);
        }
        assertThat(received).isEqualTo(50);

        CompletableFuture<byte[]> total = new CompletableFuture<>();
        StreamObserver<byte[]> upload = ClientCalls.asyncClientStreamingCall(
                channel.newCall(EchoService.CLIENT_STREAM, within(10)), observer(total, null));
        for (int i = 0; i < 20; i++) {
            upload.onNext(random(10_000));
        }
        upload.onCompleted();
        assertThat(ByteBuffer.wrap(total.get(10, TimeUnit.SECONDS)).getInt()).isEqualTo(200_000);

        LinkedBlockingQueue<byte[]> echoes = new LinkedBlockingQueue<>();
        CompletableFuture<byte[]> done = new CompletableFuture<>();
        StreamObserver<byte[]> chat = ClientCalls.asyncBidiStreamingCall(channel.newCall(EchoService.BIDI, within(10)),
                observer(done, echoes));
        for (int i = 0; i < 10; i++) {
            byte[] message = random(100 + i);
            chat.onNext(message);
            assertThat(echoes.poll(10, TimeUnit.SECONDS)).isEqualTo(message); // one at a time: a real conversation
        }
        chat.onCompleted();
        done.get(10, TimeUnit.SECONDS);
    }

    @Test
    void largeMessagesCrossUnderFlowControlAndASlowReaderStallsNoOtherCall() throws Exception {
        byte[] big = random(8 * MIB);
        assertThat(ClientCalls.blockingUnaryCall(channel, EchoService.UNARY, within(30), big)).isEqualTo(big);

        // A call whose reader takes one message of 200 and stops: 50 MiB wait behind it upstream.
        LinkedBlockingQueue<byte[]> slow = new LinkedBlockingQueue<>();
        CompletableFuture<Status> slowEnd = new CompletableFuture<>();
        ClientCall<byte[], byte[]> call = channel.newCall(EchoService.SERVER_STREAM, within(60));
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
                slow.add(message);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                slowEnd.complete(status);
            }
        }, new Metadata());
        call.request(1);
        call.sendMessage(EchoService.ints(200, 256 * 1024));
        call.halfClose();
        assertThat(slow.poll(10, TimeUnit.SECONDS)).isNotNull();

        // Meanwhile other calls, on the same client connection and on another, go through.
        ManagedChannel other = channel(service);
        try {
            for (int i = 0; i < 20; i++) {
                byte[] request = random(64 * 1024);
                assertThat(ClientCalls.blockingUnaryCall(channel, EchoService.UNARY, within(5), request)).isEqualTo(request);
                assertThat(ClientCalls.blockingUnaryCall(other, EchoService.UNARY, within(5), request)).isEqualTo(request);
            }
        } finally {
            other.shutdownNow();
        }
        assertThat(slow).isEmpty();
        assertThat(slowEnd).isNotDone();

        call.request(Integer.MAX_VALUE); // the reader catches up: every message arrives, in order
        assertThat(slowEnd.get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
        List<byte[]> rest = new ArrayList<>(slow);
        assertThat(rest).hasSize(199);
        assertThat(rest.get(198)).startsWith((byte) 199);
    }

    @Test
    void aDeadlineThatPassesIsDeadlineExceededAndCancelsTheServersCall() throws Exception {
        CountDownLatch cancelled = echo.cancelled = new CountDownLatch(1);
        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(channel, EchoService.HANG,
                CallOptions.DEFAULT.withDeadlineAfter(500, TimeUnit.MILLISECONDS), new byte[] {1}))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(cancelled.await(10, TimeUnit.SECONDS)).as("the server saw its call cancelled").isTrue();
    }

    @Test
    void aCancelledCallIsResetAtTheServer() throws Exception {
        CountDownLatch cancelled = echo.cancelled = new CountDownLatch(1);
        CountDownLatch started = echo.started = new CountDownLatch(1);
        var pending = ClientCalls.futureUnaryCall(channel.newCall(EchoService.HANG, within(60)), new byte[] {1});
        assertThat(started.await(10, TimeUnit.SECONDS)).as("the call reached the server").isTrue();
        pending.cancel(true);
        assertThat(cancelled.await(10, TimeUnit.SECONDS)).as("the server saw the cancellation").isTrue();
    }

    @Test
    void theSidecarsOwnErrorsAreTrailersOnlyGrpcStatuses() {
        assertStatus(failure("nosuch" + ThreadLocalRandom.current().nextInt(1 << 20), EchoService.UNARY, Map.of()),
                Status.Code.UNIMPLEMENTED, "route_not_found: ");
        assertStatus(failure(deadService, EchoService.UNARY, Map.of()), Status.Code.UNAVAILABLE, "upstream_unreachable: ");
        assertStatus(failure(service, EchoService.UNARY, Map.of("x-tm-tenant", "someone-else")),
                Status.Code.PERMISSION_DENIED, "tenant_forbidden: ");
        assertStatus(failure(service, EchoService.UNARY, Map.of("x-tm-service", "Not_A_Name!")),
                Status.Code.INVALID_ARGUMENT, "invalid_route_header: ");
        // TM_UPSTREAM_RESPONSE_TIMEOUT_MS is 1500 here, and the call has no deadline of its own.
        assertStatus(failure(service, EchoService.HANG, Map.of()), Status.Code.DEADLINE_EXCEEDED, "upstream_timeout: ");
        // The upstream's own status is relayed as it is.
        assertStatus(failure(service, EchoService.FAIL, Map.of()), Status.Code.FAILED_PRECONDITION, "the upstream's own");
    }

    /**
     * The sidecar itself keeps a call's grpc-timeout (grpc-java's client would cancel at its deadline
     * first, so curl sends the call, and waits): DEADLINE_EXCEEDED as a trailers-only answer, and the
     * server's call is cancelled.
     */
    @Test
    void theSidecarHonoursGrpcTimeoutAsTheCallsDeadline() throws Exception {
        CountDownLatch cancelled = echo.cancelled = new CountDownLatch(1);
        Path frame = dir.resolve("hang.grpc");
        java.nio.file.Files.write(frame, new byte[] {0, 0, 0, 0, 1, 7}); // uncompressed, 1 byte
        long start = System.nanoTime();
        String out = ExternalClients.curl(Map.of(), "--http2-prior-knowledge", "-D", "-", "-o", "/dev/null",
                "-H", "content-type: application/grpc", "-H", "te: trailers", "-H", "grpc-timeout: 400m",
                "--data-binary", "@" + frame, "http://127.0.0.1:" + sidecar.port() + "/" + EchoService.NAME + "/Hang",
                "-H", "host: " + service);
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(out.toLowerCase()).startsWith("http/2 200").contains("grpc-status: 4")
                .contains("grpc-message: upstream_timeout: no response from").contains("grpc-timeout of 400 ms");
        assertThat(tookMillis).isBetween(350L, 1400L); // not the route's 1500 ms response timeout
        assertThat(cancelled.await(10, TimeUnit.SECONDS)).as("the server's call was cancelled").isTrue();
    }

    private static void assertStatus(StatusRuntimeException e, Status.Code code, String description) {
        assertThat(e.getStatus().getCode()).as(e.toString()).isEqualTo(code);
        assertThat(e.getStatus().getDescription()).startsWith(description);
    }

    /** A call without a deadline of its own that must fail; {@code headers} go with it. */
    private static StatusRuntimeException failure(String authority, MethodDescriptor<byte[], byte[]> method,
                                                  Map<String, String> headers) {
        Metadata metadata = new Metadata();
        headers.forEach((name, value) -> metadata.put(Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER), value));
        ManagedChannel on = channel(authority);
        try {
            ClientCalls.blockingUnaryCall(ClientInterceptors.intercept(on, MetadataUtils.newAttachHeadersInterceptor(metadata)),
                    method, CallOptions.DEFAULT, new byte[] {1});
            throw new AssertionError("the call succeeded");
        } catch (StatusRuntimeException e) {
            return e;
        } finally {
            on.shutdownNow();
        }
    }

    private static <T> StreamObserver<T> observer(CompletableFuture<T> last, LinkedBlockingQueue<T> all) {
        return new StreamObserver<>() {
            private T latest;

            @Override
            public void onNext(T value) {
                latest = value;
                if (all != null) {
                    all.add(value);
                }
            }

            @Override
            public void onError(Throwable t) {
                last.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                last.complete(latest);
            }
        };
    }
}
