package dev.trafficmanager.controlapi.auth;

import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Who a request comes from, for the failed-authentication limit. The peer's address, unless the
 * peer is one of {@code TM_API_TRUSTED_PROXIES} (load balancers, as addresses or CIDR ranges,
 * matched by Netty's {@link IpSubnetFilterRule}): then the right-most {@code X-Forwarded-For}
 * address that is not itself a trusted proxy, the one the trusted chain saw (entries further left
 * are the client's own say and may be forged). An IPv6 client counts by its /64, which one host
 * usually holds whole. Never resolves names. Immutable.
 */
public final class ClientAddresses {
    /** Trusts no proxy: the peer's address always. */
    public static final ClientAddresses NO_PROXIES = new ClientAddresses(List.of());

    private final List<IpSubnetFilterRule> trusted;

    private ClientAddresses(List<IpSubnetFilterRule> trusted) {
        this.trusted = List.copyOf(trusted);
    }

    /** Parses a comma-separated list of addresses and CIDR ranges; throws naming a bad entry. */
    public static ClientAddresses parse(String setting) {
        List<IpSubnetFilterRule> ranges = new ArrayList<>();
        for (String entry : setting.split(",")) {
            String item = entry.trim();
            if (item.isEmpty()) {
                continue;
            }
            int slash = item.indexOf('/');
            InetAddress address = literal(slash < 0 ? item : item.substring(0, slash));
            int maxBits = address == null ? 0 : address.getAddress().length * 8;
            int bits = -1;
            try {
                bits = slash < 0 ? maxBits : Integer.parseInt(item.substring(slash + 1));
            } catch (NumberFormatException e) {
                // reported below
            }
            if (address == null || bits < 0 || bits > maxBits) {
                throw new IllegalArgumentException("TM_API_TRUSTED_PROXIES: " + item
                        + " (expected: IP addresses or CIDR ranges such as 10.0.0.0/8, comma-separated)");
            }
            ranges.add(new IpSubnetFilterRule(address, bits, IpFilterRuleType.ACCEPT));
        }
        return new ClientAddresses(ranges);
    }

    /** The key failures are counted under for a request from {@code peer} with {@code forwardedFor} (or null). */
    public String key(String peer, String forwardedFor) {
        InetAddress client = literal(peer);
        if (client == null) {
            return peer; // not an address (a test's channel): counted as it is
        }
        if (forwardedFor != null && trusted(client)) {
            String[] hops = forwardedFor.split(",");
            for (int i = hops.length - 1; i >= 0; i--) {
                InetAddress hop = literal(hops[i].trim());
                if (hop == null) {
                    break; // garbage in the chain: the last address known good stands
                }
                client = hop;
                if (!trusted(hop)) {
                    break;
                }
            }
        }
        return keyOf(client.getAddress());
    }

    /** An IP literal as an address, without any name lookup; null for anything else. */
    private static InetAddress literal(String text) {
        return NetUtil.createInetAddressFromIpAddressString(text);
    }

    private boolean trusted(InetAddress address) {
        InetSocketAddress socket = new InetSocketAddress(address, 0);
        return trusted.stream().anyMatch(range -> range.matches(socket));
    }

    private static String keyOf(byte[] address) {
        if (address.length == 4) {
            return NetUtil.bytesToIpAddress(address);
        }
        byte[] network = new byte[16];
        System.arraycopy(address, 0, network, 0, 8);
        return NetUtil.bytesToIpAddress(network) + "/64";
    }
}
