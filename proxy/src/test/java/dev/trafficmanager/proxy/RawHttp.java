package dev.trafficmanager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** HTTP/1.1 on a raw socket, for tests that must send exactly the bytes they mean. */
final class RawHttp {
    private RawHttp() {
    }

    /** A socket to the sidecar's proxy port, with a read timeout. */
    static Socket connect(Sidecar sidecar) throws IOException {
        Socket socket = new Socket("127.0.0.1", sidecar.port());
        socket.setSoTimeout(10_000);
        return socket;
    }

    /** Sends {@code request} on a new connection and reads one response. */
    static String exchange(Sidecar sidecar, String request) throws IOException {
        try (Socket socket = connect(sidecar)) {
            send(socket, request);
            return readResponse(socket.getInputStream(), false);
        }
    }

    static void send(Socket socket, String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    /** Reads one response: its head, then a Content-Length or chunked body (none for bodyless). */
    static String readResponse(InputStream in, boolean bodyless) throws IOException {
        String head = ScriptedUpstream.readHead(in);
        assertThat(head).as("a response").isNotNull();
        StringBuilder out = new StringBuilder(head);
        if (bodyless) {
            return out.toString();
        }
        String lower = head.toLowerCase();
        int cl = lower.indexOf("content-length:");
        if (cl >= 0) {
            int length = Integer.parseInt(lower.substring(cl + 15, lower.indexOf("\r\n", cl)).trim());
            out.append(new String(in.readNBytes(length), StandardCharsets.ISO_8859_1));
        } else if (lower.matches("(?s).*\r\ntransfer-encoding:[^\r\n]*chunked\r\n.*")) {
            while (true) {
                String size = readLine(in);
                int n = Integer.parseInt(size.trim(), 16);
                if (n == 0) {
                    readLine(in);
                    break;
                }
                out.append(new String(in.readNBytes(n), StandardCharsets.ISO_8859_1));
                readLine(in);
            }
        }
        return out.toString();
    }

    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b; (b = in.read()) >= 0 && b != '\n'; ) {
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

}
