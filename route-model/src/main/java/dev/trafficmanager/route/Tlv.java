package dev.trafficmanager.route;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Tagged fields: {@code tag (1 byte) | length (unsigned varint) | value}, the layout of route
 * events and of cached entries' bodies. A reader skips tags it does not know, so a writer may add
 * fields; a tag is never reused or changed. Ints and longs are big-endian.
 */
public final class Tlv {
    private Tlv() {
    }

    /** Receives each field of {@link #read}: {@code in} is positioned at its value of {@code length} bytes. */
    @FunctionalInterface
    public interface Field {
        void accept(int tag, ByteBuffer in, int length);
    }

    /** A growing buffer of fields. */
    public static final class Writer {
        private byte[] bytes;
        private int size;

        public Writer(int capacity) {
            bytes = new byte[Math.max(16, capacity)];
        }

        public Writer raw(int b) {
            ensure(1);
            bytes[size++] = (byte) b;
            return this;
        }

        public Writer rawLong(long value) {
            ensure(8);
            for (int shift = 56; shift >= 0; shift -= 8) {
                bytes[size++] = (byte) (value >>> shift);
            }
            return this;
        }

        private Writer rawInt(int value) {
            ensure(4);
            for (int shift = 24; shift >= 0; shift -= 8) {
                bytes[size++] = (byte) (value >>> shift);
            }
            return this;
        }

        public Writer bytes(int tag, byte[] value) {
            header(tag, value.length);
            ensure(value.length);
            System.arraycopy(value, 0, bytes, size, value.length);
            size += value.length;
            return this;
        }

        public Writer string(int tag, String value) {
            return bytes(tag, value.getBytes(StandardCharsets.UTF_8));
        }

        public Writer oneByte(int tag, int value) {
            header(tag, 1);
            return raw(value);
        }

        public Writer int32(int tag, int value) {
            header(tag, 4);
            return rawInt(value);
        }

        public Writer int64(int tag, long value) {
            header(tag, 8);
            return rawLong(value);
        }

        /** A field whose value is a 4-byte int followed by a string (a weight and a name). */
        public Writer weighted(int tag, int weight, String name) {
            byte[] text = name.getBytes(StandardCharsets.UTF_8);
            header(tag, 4 + text.length);
            rawInt(weight);
            ensure(text.length);
            System.arraycopy(text, 0, bytes, size, text.length);
            size += text.length;
            return this;
        }

        private void header(int tag, int length) {
            raw(tag);
            int value = length;
            while ((value & ~0x7f) != 0) {
                raw((value & 0x7f) | 0x80);
                value >>>= 7;
            }
            raw(value);
        }

        private void ensure(int more) {
            if (size + more > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
            }
        }

        public byte[] toBytes() {
            return Arrays.copyOf(bytes, size);
        }
    }

    /**
     * Reads the fields from {@code in}'s position to its limit, handing each to {@code field}.
     *
     * @throws InvalidRouteException ({@code invalid_event}) for a truncated field
     */
    public static void read(ByteBuffer in, Field field) {
        while (in.hasRemaining()) {
            int tag = in.get() & 0xff;
            int length = readVarint(in);
            if (length > in.remaining()) {
                throw invalid("field " + tag + " claims " + length + " bytes, " + in.remaining() + " left");
            }
            int start = in.position();
            field.accept(tag, in, length);
            in.position(start + length);
        }
    }

    public static int oneByte(ByteBuffer in, int tag, int length) {
        requireLength(tag, length, 1);
        return in.get() & 0xff;
    }

    public static int int32(ByteBuffer in, int tag, int length) {
        requireLength(tag, length, 4);
        return in.getInt();
    }

    public static long int64(ByteBuffer in, int tag, int length) {
        requireLength(tag, length, 8);
        return in.getLong();
    }

    public static String string(ByteBuffer in, int length) {
        return new String(in.array(), in.arrayOffset() + in.position(), length, StandardCharsets.UTF_8);
    }

    /** The weight of a {@link Writer#weighted} field; {@link #weightedName} is its name. */
    public static int weight(ByteBuffer in, int tag, int length) {
        requireWeighted(tag, length);
        return in.getInt(in.position());
    }

    public static String weightedName(ByteBuffer in, int tag, int length) {
        requireWeighted(tag, length);
        return new String(in.array(), in.arrayOffset() + in.position() + 4, length - 4, StandardCharsets.UTF_8);
    }

    private static void requireWeighted(int tag, int length) {
        if (length < 4) {
            throw invalid("field " + tag + " has " + length + " bytes (expected: at least 4)");
        }
    }

    private static void requireLength(int tag, int length, int expected) {
        if (length != expected) {
            throw invalid("field " + tag + " has " + length + " bytes (expected: " + expected + ")");
        }
    }

    private static int readVarint(ByteBuffer in) {
        int value = 0;
        for (int shift = 0; shift < 32; shift += 7) {
            if (!in.hasRemaining()) {
                throw invalid("truncated length");
            }
            int b = in.get() & 0xff;
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                if (value < 0) {
                    throw invalid("length out of range");
                }
                return value;
            }
        }
        throw invalid("length longer than 5 bytes");
    }

    static InvalidRouteException invalid(String why) {
        return new InvalidRouteException("invalid_event", "route event: " + why);
    }
}
