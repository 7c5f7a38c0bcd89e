package dev.trafficmanager.proxy.routing;

/**
 * How an {@link Exchange} ended: the one reason its single {@code end} is given, which decides what
 * happens to the upstream connection and the client connection.
 */
enum Ending {
    /** The response's last part was written: the upstream connection goes back to the pool if it can. */
    COMPLETED,
    /** An error response of our own, before any response byte went out. */
    FAILED,
    /** The response had started and could not finish: the client connection closes to show the cut. */
    CUT,
    /** The client connection closed first: nothing is written, nothing half-used is pooled. */
    CLIENT_GONE
}
