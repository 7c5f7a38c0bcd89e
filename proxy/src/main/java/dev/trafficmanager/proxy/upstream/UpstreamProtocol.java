package dev.trafficmanager.proxy.upstream;

/**
 * The protocol a request is sent upstream in. By default an {@code http} upstream hears the
 * protocol the client spoke (HTTP/2 with prior knowledge for an HTTP/2 client); HTTP/1.1 otherwise.
 */
public enum UpstreamProtocol {
    HTTP1,
    /** HTTP/2 with prior knowledge (h2c) to an {@code http} upstream. */
    H2;

    /** The stream and connection flow-control windows both sides use: 64 KiB a stream, room for 100 streams' worth a connection. */
    public static final int STREAM_WINDOW = 65_535;
    public static final int MAX_STREAMS = 100;
    public static final int CONNECTION_WINDOW = STREAM_WINDOW * MAX_STREAMS;
}
