package dev.trafficmanager.proxy.routing;

/** How a failure reads in an error message: its message, or its type when it has none. */
final class Failures {
    private Failures() {
    }

    static String describe(Throwable cause) {
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }
}
