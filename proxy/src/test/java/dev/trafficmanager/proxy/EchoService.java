package dev.trafficmanager.proxy;

import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;

/**
 * A gRPC service defined by hand (messages are raw bytes, so no protoc is needed): one method per
 * kind of call, plus one that never answers (deadlines, cancellation) and one that fails with its
 * own status (relayed as it is).
 */
final class EchoService {
    static final String NAME = "tm.test.Echo";
    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    static final MethodDescriptor<byte[], byte[]> UNARY = method("Unary", MethodDescriptor.MethodType.UNARY);
    /** Request: 4 bytes n, 4 bytes size: n messages of size bytes, the first byte of each its index. */
    static final MethodDescriptor<byte[], byte[]> SERVER_STREAM = method("ServerStream", MethodDescriptor.MethodType.SERVER_STREAMING);
    /** The reply is the total of the request messages' lengths, 4 bytes. */
    static final MethodDescriptor<byte[], byte[]> CLIENT_STREAM = method("ClientStream", MethodDescriptor.MethodType.CLIENT_STREAMING);
    static final MethodDescriptor<byte[], byte[]> BIDI = method("Bidi", MethodDescriptor.MethodType.BIDI_STREAMING);
    static final MethodDescriptor<byte[], byte[]> HANG = method("Hang", MethodDescriptor.MethodType.UNARY);
    static final MethodDescriptor<byte[], byte[]> FAIL = method("Fail", MethodDescriptor.MethodType.UNARY);

    /** Counted down when a call of HANG arrives, and when one is cancelled (by the client, through the sidecar). */
    volatile CountDownLatch started = new CountDownLatch(1);
    volatile CountDownLatch cancelled = new CountDownLatch(1);

    private static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(NAME, name))
                .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    }

    static byte[] ints(int... values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 4);
        for (int v : values) {
            buffer.putInt(v);
        }
        return buffer.array();
    }

    ServerServiceDefinition definition() {
        return ServerServiceDefinition.builder(NAME)
                .addMethod(UNARY, ServerCalls.asyncUnaryCall((request, out) -> {
                    out.onNext(request);
                    out.onCompleted();
                }))
                .addMethod(SERVER_STREAM, ServerCalls.asyncServerStreamingCall((request, out) -> {
                    ByteBuffer spec = ByteBuffer.wrap(request);
                    int count = spec.getInt();
                    int size = spec.getInt();
                    for (int i = 0; i < count; i++) {
                        byte[] message = new byte[size];
                        message[0] = (byte) i;
                        out.onNext(message);
                    }
                    out.onCompleted();
                }))
                .addMethod(CLIENT_STREAM, ServerCalls.asyncClientStreamingCall(out -> new StreamObserver<byte[]>() {
                    private int total;

                    @Override
                    public void onNext(byte[] message) {
                        total += message.length;
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onNext(ints(total));
                        out.onCompleted();
                    }
                }))
                .addMethod(BIDI, ServerCalls.asyncBidiStreamingCall(out -> new StreamObserver<byte[]>() {
                    @Override
                    public void onNext(byte[] message) {
                        out.onNext(message);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        out.onCompleted();
                    }
                }))
                .addMethod(HANG, ServerCalls.asyncUnaryCall((request, out) -> {
                    CountDownLatch onCancel = cancelled;
                    ((ServerCallStreamObserver<byte[]>) out).setOnCancelHandler(onCancel::countDown);
                    started.countDown();
                }))
                .addMethod(FAIL, ServerCalls.asyncUnaryCall((request, out) ->
                        out.onError(Status.FAILED_PRECONDITION.withDescription("the upstream's own").asRuntimeException())))
                .build();
    }
}
