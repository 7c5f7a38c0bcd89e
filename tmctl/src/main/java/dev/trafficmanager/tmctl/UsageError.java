package dev.trafficmanager.tmctl;

/** A mistake in how tmctl was called, found after parsing (a file that cannot be read, a bad key). */
public final class UsageError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageError(String message) {
        super(message);
    }
}
