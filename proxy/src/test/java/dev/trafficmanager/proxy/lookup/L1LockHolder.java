package dev.trafficmanager.proxy.lookup;

import java.io.File;
import java.util.concurrent.CountDownLatch;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ExternalMapQueryContext;

/**
 * A second process on the L1 file that takes the write lock of one key's segment, says
 * {@code locked}, and holds it until it is killed: what a sidecar killed mid-write leaves behind.
 * Arguments: the L1 file, the key.
 */
public final class L1LockHolder {
    private L1LockHolder() {
    }

    public static void main(String[] args) throws Exception {
        ChronicleMap<CharSequence, byte[]> map = ChronicleMap.of(CharSequence.class, byte[].class)
                .name("tm-routes").entries(1000).averageKey(args[1]).averageValueSize(66)
                .createPersistedTo(new File(args[0]));
        ExternalMapQueryContext<CharSequence, byte[], ?> context = map.queryContext(args[1]);
        context.writeLock().lock();
        System.out.println("locked");
        System.out.flush();
        new CountDownLatch(1).await(); // held until the test kills this process
    }
}
