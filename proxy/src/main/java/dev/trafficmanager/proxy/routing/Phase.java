package dev.trafficmanager.proxy.routing;

/**
 * Where an {@link Exchange} is. The diagram, and the only transitions {@link #allows} permits:
 * <pre>
 *  ROUTING ──forward──> CONNECTING ──connected──> SENDING ──response head──> RESPONDING
 *                         ^    │ (retry after backoff)   │
 *                         └────┘<──── keep-alive race ───┘
 *  every phase ──end(Ending)──> ENDED
 * </pre>
 * ROUTING: the destination is being decided or looked up. CONNECTING: an upstream connection is
 * borrowed or opened (or a retry waits for its backoff). SENDING: the request head went out, the
 * body may still be streaming, no response head has come back. RESPONDING: the response head was
 * relayed to the client; from here the exchange can only complete or be cut. ENDED: answered,
 * failed, cut or abandoned; every later event is ignored.
 */
enum Phase {
    ROUTING, CONNECTING, SENDING, RESPONDING, ENDED;

    /** Whether an exchange in this phase may go to {@code next}. */
    boolean allows(Phase next) {
        return switch (this) {
            case ROUTING -> next == CONNECTING || next == ENDED;
            case CONNECTING -> next == CONNECTING || next == SENDING || next == ENDED;
            case SENDING -> next == CONNECTING || next == RESPONDING || next == ENDED;
            case RESPONDING -> next == ENDED;
            case ENDED -> false;
        };
    }

    /** Whether the response head went out to the client: an error can no longer replace it. */
    boolean responseStarted() {
        return this == RESPONDING;
    }
}
