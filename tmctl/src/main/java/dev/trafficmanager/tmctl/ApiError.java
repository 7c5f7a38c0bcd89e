package dev.trafficmanager.tmctl;

/**
 * A refusal from the control API ({@code status}, its {@code error} code and {@code message}), or a
 * failure to reach it (status 0). A 412 is a conflict: someone changed the resource meanwhile.
 */
public final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String code;

    public ApiError(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public boolean conflict() {
        return status == 412;
    }

    @Override
    public String toString() {
        return status == 0 ? getMessage() : status + " " + code + ": " + getMessage();
    }
}
