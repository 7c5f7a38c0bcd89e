package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.proxy.ProxyConfig;
import dev.trafficmanager.proxy.lookup.RouteKeyProbe;
import dev.trafficmanager.route.Names;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

/**
 * Reads the route key from a request's headers into a {@link RouteKeyProbe}: tenant, env and
 * version may fall back to the sidecar's configured defaults; the service never does. Allocates
 * nothing when the headers are valid. Immutable and thread-safe.
 */
public final class RouteHeaders {

    /** Why a request's route headers cannot be used: a 400 with this code and message. */
    public record Problem(String code, String message) {
    }

    private final AsciiString[] names;
    private final String[] defaults;

    public RouteHeaders(ProxyConfig.RouteHeaderNames names, ProxyConfig.RouteDefaults defaults) {
        this.names = new AsciiString[] {AsciiString.cached(names.tenant()), AsciiString.cached(names.service()),
                AsciiString.cached(names.env()), AsciiString.cached(names.version())};
        this.defaults = new String[] {defaults.tenant(), null, defaults.env(), defaults.version()};
    }

    /** Fills {@code probe}; returns null when the headers name a valid key, else the problem. */
    public Problem read(HttpHeaders headers, RouteKeyProbe probe) {
        return read(headers.get(names[0]), headers.get(names[1]), headers.get(names[2]), headers.get(names[3]), probe);
    }

    /**
     * A request's key, with tenant and service given (read already, or named by the authority), env
     * and version from the headers. Without a version header the probe is set to the split key
     * ({@code tenant/service/env}): the request's version comes from the split, else the default
     * ({@link #defaultVersion()}).
     */
    Problem readRequest(HttpHeaders headers, String tenant, String service, RouteKeyProbe probe) {
        return read(tenant, service, headers.get(names[2]), headers.get(names[3]), true, probe);
    }

    /** The split key of a service's env; tenant and env fall back to the defaults. */
    public Problem readSplitKey(String tenant, String service, String env, RouteKeyProbe probe) {
        return read(tenant, service, env, null, true, probe);
    }

    /** TM_DEFAULT_VERSION, or null. */
    String defaultVersion() {
        return defaults[3];
    }

    /** The problem of a request that names no version when its service has no split and no default is set. */
    Problem missingVersion(String splitKey) {
        return new Problem("missing_route_header", "header " + names[3] + " is required: " + splitKey
                + " has no split (or configure a default for it on the sidecar)");
    }

    AsciiString tenantHeader() {
        return names[0];
    }

    AsciiString serviceHeader() {
        return names[1];
    }

    /** The same from the four values; null ones fall back to the defaults. */
    public Problem read(String tenant, String service, String env, String version, RouteKeyProbe probe) {
        return read(tenant, service, env, version != null ? version : defaults[3], false, probe);
    }

    /** {@code splitKey}: a null version makes the probe the split key, not a missing header. */
    private Problem read(String tenant, String service, String env, String version, boolean splitKey, RouteKeyProbe probe) {
        if (tenant == null) {
            tenant = defaults[0];
        }
        if (env == null) {
            env = defaults[2];
        }
        boolean split = splitKey && version == null;
        if (tenant == null || service == null || env == null || !split && version == null || !Names.isValid(tenant)
                || !Names.isValid(service) || !Names.isValid(env) || !split && !Names.isValid(version)) {
            return split ? problem(tenant, service, env) : problem(tenant, service, env, version);
        }
        probe.set(tenant, service, env, split ? null : version);
        return null;
    }

    private Problem problem(String... values) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null) {
                return new Problem("missing_route_header", "header " + names[i] + " is required"
                        + (i == 1 ? "" : " (or configure a default for it on the sidecar)"));
            }
        }
        for (int i = 0; i < values.length; i++) {
            if (!Names.isValid(values[i])) {
                return invalid(i, values[i]);
            }
        }
        throw new IllegalStateException("no problem found");
    }

    /** The problem with a tenant header that breaks the name rules. */
    Problem invalidTenant(String tenant) {
        return invalid(0, tenant);
    }

    private Problem invalid(int part, String value) {
        return new Problem("invalid_route_header", "header " + names[part] + ": " + JsonText.quote(shorten(value))
                + " (expected: " + Names.RULE + ")");
    }

    private static String shorten(String value) {
        return value.length() > 80 ? value.substring(0, 80) + "..." : value;
    }
}
