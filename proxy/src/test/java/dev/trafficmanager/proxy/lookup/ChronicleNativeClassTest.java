package dev.trafficmanager.proxy.lookup;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The L1 file's header class, which Chronicle Values would otherwise generate and compile with
 * javac at every start, is committed pre-generated (proxy/src/main/java/net/openhft/chronicle/hash).
 * It must be exactly what the Chronicle version on the classpath generates.
 */
class ChronicleNativeClassTest {
    private static final String TYPE = "net.openhft.chronicle.hash.VanillaGlobalMutableState";

    @Test
    void theCommittedHeaderClassIsWhatChronicleGenerates() throws Exception {
        Class<?> modelType = Class.forName("net.openhft.chronicle.values.ValueModel");
        Object model = modelType.getMethod("acquire", Class.class).invoke(null, Class.forName(TYPE));
        Method generate = Class.forName("net.openhft.chronicle.values.Generators")
                .getDeclaredMethod("generateNativeClass", modelType, String.class);
        generate.setAccessible(true);
        String generated = (String) generate.invoke(null, model, "VanillaGlobalMutableState$$Native");

        Path committed = Path.of(System.getProperty("tm.repo.root"),
                "proxy/src/main/java/net/openhft/chronicle/hash/VanillaGlobalMutableState$$Native.java");
        String source = Files.readString(committed);
        assertThat(source.substring(source.indexOf("package "))).as("regenerate %s with:%n%s", committed, generated)
                .isEqualTo(generated);
    }

    @Test
    void chronicleUsesTheCommittedClass() throws Exception {
        Class<?> nativeClass = Class.forName(TYPE + "$$Native");
        // compiled with the project (target/classes), not defined at run time by Chronicle's compiler
        assertThat(nativeClass.getProtectionDomain().getCodeSource().getLocation().getPath()).endsWith("/proxy/target/classes/");
    }
}
