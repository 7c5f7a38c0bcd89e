package dev.trafficmanager.route;

/**
 * A name, URL or encoded event that breaks the route model's rules. {@link #code()} is the
 * stable error code an API reports ({@code invalid_name}, {@code invalid_url}, {@code invalid_event});
 * the message says what was given and what was expected.
 */
public final class InvalidRouteException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String code;

    public InvalidRouteException(String code, String message) {
        super(message);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
