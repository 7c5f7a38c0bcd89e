package dev.trafficmanager.proxy;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/2 frames written by hand on a plain socket, for input no real client would send: the
 * preface, frames of any type, and header blocks as HPACK literals (no compression state).
 */
final class RawH2 implements AutoCloseable {
    static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    static final int DATA = 0;
    static final int HEADERS = 1;
    static final int RST_STREAM = 3;
    static final int SETTINGS = 4;
    static final int PING = 6;
    static final int GOAWAY = 7;
    static final int CONTINUATION = 9;
    static final int END_STREAM = 1;
    static final int END_HEADERS = 4;

    private final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;

    RawH2(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout(10_000);
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
    }

    /** Writes bytes; false once the sidecar has closed the connection. */
    boolean write(byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static byte[] frame(int type, int flags, int stream, byte[] payload) {
        byte[] frame = new byte[9 + payload.length];
        frame[0] = (byte) (payload.length >>> 16);
        frame[1] = (byte) (payload.length >>> 8);
        frame[2] = (byte) payload.length;
        frame[3] = (byte) type;
        frame[4] = (byte) flags;
        frame[5] = (byte) (stream >>> 24);
        frame[6] = (byte) (stream >>> 16);
        frame[7] = (byte) (stream >>> 8);
        frame[8] = (byte) stream;
        System.arraycopy(payload, 0, frame, 9, payload.length);
        return frame;
    }

    /** The preface and an empty SETTINGS frame: what every client sends first. */
    static byte[] hello() {
        return concat(PREFACE, frame(SETTINGS, 0, 0, new byte[0]));
    }

    /** {@link #hello}, then the acknowledgement of the sidecar's SETTINGS, which puts its limits in force. */
    void handshake() throws IOException {
        write(hello());
        Frame frame;
        while ((frame = read()) != null && (frame.type != SETTINGS || (frame.flags & 1) != 0)) {
            // its SETTINGS come first; anything before them is skipped
        }
        write(frame(SETTINGS, 1, 0, new byte[0]));
    }

    /** A GET's header block (literals without indexing) with {@code extra} name/value pairs after the pseudo-headers. */
    static byte[] getBlock(String... extra) {
        ByteArrayOutputStream block = new ByteArrayOutputStream();
        String[] pairs = {":method", "GET", ":scheme", "http", ":path", "/", ":authority", "svc"};
        for (int i = 0; i < pairs.length; i += 2) {
            literal(block, pairs[i], pairs[i + 1]);
        }
        for (int i = 0; i < extra.length; i += 2) {
            literal(block, extra[i], extra[i + 1]);
        }
        return block.toByteArray();
    }

    private static void literal(ByteArrayOutputStream block, String name, String value) {
        block.write(0);
        string(block, name.getBytes(StandardCharsets.US_ASCII));
        string(block, value.getBytes(StandardCharsets.US_ASCII));
    }

    private static void string(ByteArrayOutputStream block, byte[] bytes) {
        integer(block, bytes.length); // H bit 0: not Huffman-coded
        block.writeBytes(bytes);
    }

    /** HPACK's integer with a 7-bit prefix (RFC 7541 section 5.1). */
    private static void integer(ByteArrayOutputStream block, int value) {
        if (value < 127) {
            block.write(value);
            return;
        }
        block.write(127);
        value -= 127;
        while (value >= 128) {
            block.write((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        block.write(value);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            all.writeBytes(part);
        }
        return all.toByteArray();
    }

    /** A frame read: its type, flags, stream and payload. */
    record Frame(int type, int flags, int stream, byte[] payload) {
        /** A GOAWAY's error code, a RST_STREAM's. */
        int errorCode() {
            int at = type == GOAWAY ? 4 : 0;
            return (payload[at] & 0xff) << 24 | (payload[at + 1] & 0xff) << 16 | (payload[at + 2] & 0xff) << 8 | payload[at + 3] & 0xff;
        }
    }

    /** The next frame, or null at the end of the connection (closed or reset). */
    Frame read() throws IOException {
        try {
            int length = in.readUnsignedByte() << 16 | in.readUnsignedByte() << 8 | in.readUnsignedByte();
            int type = in.readUnsignedByte();
            int flags = in.readUnsignedByte();
            int stream = in.readInt() & 0x7fffffff;
            byte[] payload = new byte[length];
            in.readFully(payload);
            return new Frame(type, flags, stream, payload);
        } catch (EOFException e) {
            return null;
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the sidecar neither sent a frame nor closed the connection within 10 s", e);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().contains("reset")) {
                return null;
            }
            throw e;
        }
    }

    /** Reads until a frame of {@code type} (returned) or the connection's end (null). */
    Frame readUntil(int type) throws IOException {
        Frame frame;
        while ((frame = read()) != null && frame.type != type) {
            // skipped: SETTINGS, their ACKs, responses of other streams
        }
        return frame;
    }

    /** Reads what is left until the sidecar closes the connection (a read timeout fails the test). */
    void awaitClose() throws IOException {
        while (read() != null) {
            // draining
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
