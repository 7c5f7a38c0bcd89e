package dev.trafficmanager.proxy.routing;

import dev.trafficmanager.route.Names;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The tenants whose routes a sidecar serves: its own ({@code TM_TENANT}) and, deliberately widened
 * for a shared egress gateway, those of {@code TM_ALLOWED_TENANTS} (a list, or {@code *} for all).
 * A request, an admin query or a listing that names any other tenant is refused. Immutable.
 */
public final class TenantPolicy {
    private final String own;
    private final Set<String> others;
    private final boolean any;

    private TenantPolicy(String own, Set<String> others, boolean any) {
        this.own = own;
        this.others = others;
        this.any = any;
    }

    /**
     * From the settings: {@code own} is TM_TENANT (may be null), {@code allowed} TM_ALLOWED_TENANTS
     * (null, a comma-separated list of names, or {@code *}). Without either a sidecar would serve
     * every tenant by accident: refused.
     */
    public static TenantPolicy of(String own, String allowed) {
        if (allowed == null) {
            if (own == null) {
                throw new IllegalArgumentException("TM_TENANT: not set (expected: the tenant whose routes this sidecar "
                        + "serves; a sidecar is bound to one tenant. For a shared egress gateway, set "
                        + "TM_ALLOWED_TENANTS to a list of tenants, or * for all)");
            }
            return new TenantPolicy(own, Set.of(), false);
        }
        if (allowed.equals("*")) {
            return new TenantPolicy(own, Set.of(), true);
        }
        Set<String> others = new LinkedHashSet<>();
        for (String part : allowed.split(",")) {
            String name = part.trim();
            if (!Names.isValid(name)) {
                throw new IllegalArgumentException("TM_ALLOWED_TENANTS: \"" + allowed + "\" (expected: * or tenant names "
                        + "separated by commas, each " + Names.RULE + "; \"" + name + "\" is not one)");
            }
            others.add(name);
        }
        return new TenantPolicy(own, Collections.unmodifiableSet(others), false);
    }

    /** Whether requests may use {@code tenant}'s routes; allocates nothing for the sidecar's own tenant. */
    public boolean allows(CharSequence tenant) {
        return any || own != null && own.contentEquals(tenant) || !others.isEmpty() && others.contains(tenant.toString());
    }

    /** Whether a route key ({@code tenant/service/env/version}) is of an allowed tenant. */
    public boolean allowsKey(String key) {
        int slash = key.indexOf('/');
        return slash > 0 && allows(key.substring(0, slash));
    }

    /** The tenants served, by name, or null when every tenant is ({@code TM_ALLOWED_TENANTS=*}). */
    public Set<String> named() {
        if (any) {
            return null;
        }
        Set<String> all = new LinkedHashSet<>(others);
        if (own != null) {
            all.add(own);
        }
        return Collections.unmodifiableSet(all);
    }

    /** Why {@code tenant}'s routes are refused: the tenant_forbidden message. */
    public String refusal(CharSequence tenant) {
        return "tenant " + tenant + " is not served by this sidecar: it serves " + describe();
    }

    /** The tenants allowed, as the settings said it, for error messages. */
    private String describe() {
        if (any) {
            return "every tenant (TM_ALLOWED_TENANTS=*)";
        }
        StringBuilder out = new StringBuilder();
        if (own != null) {
            out.append(own).append(" (TM_TENANT)");
        }
        if (!others.isEmpty()) {
            out.append(out.length() > 0 ? " and " : "").append(String.join(", ", others)).append(" (TM_ALLOWED_TENANTS)");
        }
        return out.toString();
    }
}
