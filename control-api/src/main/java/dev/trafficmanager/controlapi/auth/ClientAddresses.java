package dev.trafficmanager.controlapi.auth;

import io.netty.util.NetUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * Who a request comes from, for the failed-authentication limit. The peer's address, unless the
 * peer is one of {@code TM_API_TRUSTED_PROXIES} (load balancers, as addresses or CIDR ranges): then
 * the right-most {@code X-Forwarded-For} address that is not itself a trusted proxy, the one the
 * trusted chain saw (entries further left are the client's own say and may be forged). An IPv6
 * client counts by its /64, which one host usually holds whole. Never resolves names. Immutable.
 */
public final class ClientAddresses {
    /** An address range: {@code bits} leading bits of {@code prefix}. */
    private record Range(byte[] prefix, int bits) {
        boolean contains(byte[] address) {
            if (address.length != prefix.length) {
                return false;
            }
            int whole = bits / 8;
            for (int i = 0; i < whole; i++) {
                if (address[i] != prefix[i]) {
                    return false;
                }
            }
            int rest = bits % 8;
            int mask = (0xff << (8 - rest)) & 0xff;
            return rest == 0 || (address[whole] & mask) == (prefix[whole] & mask);
        }
    }

    /** Trusts no proxy: the peer's address always. */
    public static final ClientAddresses NO_PROXIES = new ClientAddresses(List.of());

    private final List<Range> trusted;

    private ClientAddresses(List<Range> trusted) {
        this.trusted = List.copyOf(trusted);
    }

    /** Parses a comma-separated list of addresses and CIDR ranges; throws naming a bad entry. */
    public static ClientAddresses parse(String setting) {
        List<Range> ranges = new ArrayList<>();
        for (String entry : setting.split(",")) {
            String item = entry.trim();
            if (item.isEmpty()) {
                continue;
            }
            int slash = item.indexOf('/');
            byte[] address = NetUtil.createByteArrayFromIpAddressString(slash < 0 ? item : item.substring(0, slash));
            int bits = address == null ? -1 : address.length * 8;
            if (address != null && slash >= 0) {
                try {
                    bits = Integer.parseInt(item.substring(slash + 1));
                } catch (NumberFormatException e) {
                    bits = -1;
                }
            }
            if (address == null || bits < 0 || bits > address.length * 8) {
                throw new IllegalArgumentException("TM_API_TRUSTED_PROXIES: " + item
                        + " (expected: IP addresses or CIDR ranges such as 10.0.0.0/8, comma-separated)");
            }
            ranges.add(new Range(address, bits));
        }
        return new ClientAddresses(ranges);
    }

    /** The key failures are counted under for a request from {@code peer} with {@code forwardedFor} (or null). */
    public String key(String peer, String forwardedFor) {
        byte[] client = NetUtil.createByteArrayFromIpAddressString(peer);
        if (client == null) {
            return peer; // not an address (a test's channel): counted as it is
        }
        if (forwardedFor != null && trusted(client)) {
            String[] hops = forwardedFor.split(",");
            for (int i = hops.length - 1; i >= 0; i--) {
                byte[] hop = NetUtil.createByteArrayFromIpAddressString(hops[i].trim());
                if (hop == null) {
                    break; // garbage in the chain: the last address known good stands
                }
                client = hop;
                if (!trusted(hop)) {
                    break;
                }
            }
        }
        return keyOf(client);
    }

    private boolean trusted(byte[] address) {
        for (Range range : trusted) {
            if (range.contains(address)) {
                return true;
            }
        }
        return false;
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
