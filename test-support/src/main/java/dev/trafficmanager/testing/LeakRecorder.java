package dev.trafficmanager.testing;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Makes every Netty leak report visible to tests. Installed by {@link LeakRecorderInstaller} when
 * the JUnit launcher starts, before any Netty buffer class creates its detector; checked by
 * {@link NoLeaksExtension} after each test class.
 */
public final class LeakRecorder extends ResourceLeakDetectorFactory {
    private static final List<String> REPORTS = new CopyOnWriteArrayList<>();
    private static volatile boolean installed;

    private LeakRecorder() {
    }

    static synchronized void install() {
        if (!installed) {
            ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new LeakRecorder());
            installed = true;
        }
    }

    public static List<String> reports() {
        return List.copyOf(REPORTS);
    }

    /** Forgets reports: only for the test that proves this recorder sees a deliberate leak. */
    static void clear() {
        REPORTS.clear();
    }

    // Netty deprecates this overload but it is the factory's only abstract method: the others call it.
    @Override
    @SuppressWarnings("deprecation")
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                                                               long maxActive) {
        return new ResourceLeakDetector<>(resource, samplingInterval) {
            @Override
            protected void reportTracedLeak(String resourceType, String records) {
                REPORTS.add("LEAK " + resourceType + records);
                super.reportTracedLeak(resourceType, records);
            }

            @Override
            protected void reportUntracedLeak(String resourceType) {
                REPORTS.add("LEAK " + resourceType + " (untraced)");
                super.reportUntracedLeak(resourceType);
            }
        };
    }
}
