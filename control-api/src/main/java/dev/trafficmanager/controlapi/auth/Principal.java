package dev.trafficmanager.controlapi.auth;

import dev.trafficmanager.controlapi.http.ApiException;
import io.netty.handler.codec.http.HttpResponseStatus;

/** Who made a request: the admin, or one tenant. */
public record Principal(boolean admin, String tenant) {
    public static final Principal ADMIN = new Principal(true, null);

    public static Principal tenant(String name) {
        return new Principal(false, name);
    }

    /** Throws 403 unless this principal may act on {@code tenantName}. */
    public void requireTenant(String tenantName) {
        if (!admin && !tenant.equals(tenantName)) {
            throw new ApiException(HttpResponseStatus.FORBIDDEN, "forbidden",
                    "this token belongs to another tenant than " + tenantName);
        }
    }

    public void requireAdmin() {
        if (!admin) {
            throw new ApiException(HttpResponseStatus.FORBIDDEN, "forbidden", "only the admin token may do this");
        }
    }
}
