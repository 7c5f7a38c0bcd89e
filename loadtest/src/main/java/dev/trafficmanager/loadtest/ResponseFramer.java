package dev.trafficmanager.loadtest;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Finds where an HTTP/1.1 response ends, reading just enough of it: the status, the end of the
 * head and Content-Length (every target {@link OpenLoad} measures sends one). Cheaper than a full
 * HTTP decoder, which would take CPU from the target. One response at a time; not thread-safe.
 */
final class ResponseFramer {
    /** What the bytes read so far amount to. */
    enum Progress { MORE, COMPLETE, MALFORMED }

    private static final byte[] CONTENT_LENGTH = "content-length:".getBytes(StandardCharsets.US_ASCII);
    private final byte[] head = new byte[16384];
    private int headLength;
    private int status;
    private long bodyLeft = -1; // bytes of the body still to come; -1 while the head is being read

    /** Ready for the next response. */
    void reset() {
        headLength = 0;
        bodyLeft = -1;
    }

    /** The status code of the response read (once COMPLETE). */
    int status() {
        return status;
    }

    /**
     * Reads response bytes: COMPLETE once the response ended exactly at the end of {@code in},
     * MALFORMED when they cannot be one well-framed response (no Content-Length, a head too long,
     * bytes after its end), MORE otherwise.
     */
    Progress consume(ByteBuf in) {
        while (in.isReadable()) {
            if (bodyLeft < 0) {
                if (headLength == head.length) {
                    return Progress.MALFORMED;
                }
                head[headLength++] = in.readByte();
                if (headLength >= 4 && head[headLength - 1] == '\n' && head[headLength - 2] == '\r'
                        && head[headLength - 3] == '\n' && head[headLength - 4] == '\r') {
                    if (headLength < 12 || head[0] != 'H') {
                        return Progress.MALFORMED;
                    }
                    status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
                    bodyLeft = contentLength();
                    if (bodyLeft < 0) {
                        return Progress.MALFORMED;
                    }
                }
            } else {
                int skip = (int) Math.min(bodyLeft, in.readableBytes());
                in.skipBytes(skip);
                bodyLeft -= skip;
            }
            if (bodyLeft == 0) {
                return in.isReadable() ? Progress.MALFORMED : Progress.COMPLETE; // more than one response to one request
            }
        }
        return Progress.MORE;
    }

    /** The head's Content-Length, or -1 when it has none. */
    private long contentLength() {
        for (int i = 0; i < headLength; i++) {
            if (head[i] == '\n' && matchesIgnoreCase(i + 1)) {
                long value = 0;
                int at = i + 1 + CONTENT_LENGTH.length;
                while (at < headLength && head[at] == ' ') {
                    at++;
                }
                int digits = 0;
                while (at < headLength && head[at] >= '0' && head[at] <= '9' && digits < 15) {
                    value = value * 10 + (head[at++] - '0');
                    digits++;
                }
                return digits == 0 ? -1 : value;
            }
        }
        return -1;
    }

    private boolean matchesIgnoreCase(int at) {
        if (at + CONTENT_LENGTH.length > headLength) {
            return false;
        }
        for (int i = 0; i < CONTENT_LENGTH.length; i++) {
            int c = head[at + i];
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }
            if (c != CONTENT_LENGTH[i]) {
                return false;
            }
        }
        return true;
    }
}
