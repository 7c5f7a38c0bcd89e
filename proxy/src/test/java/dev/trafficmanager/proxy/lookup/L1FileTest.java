package dev.trafficmanager.proxy.lookup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import net.openhft.chronicle.map.ChronicleMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The L1 file cannot keep a sidecar from starting, and its folder is the sidecar's own. */
class L1FileTest {
    private static final String KEY = "team/pay/prod/v1";

    @TempDir
    Path dir;

    private Path filled() {
        Path file = dir.resolve("routes.l1");
        try (L1Store l1 = L1Store.open(file, 1000)) {
            for (int i = 0; i < 200; i++) {
                l1.apply(RouteEntry.found("team/svc" + i + "/prod/v1", "http://a:1/", true, 1, 1));
            }
        }
        return file;
    }

    /** Opens {@code file}, which is broken, and checks a new one works and the old one was kept aside. */
    private void opensFreshAndKeepsTheBrokenOneAside(Path file, byte[] broken) throws Exception {
        Files.write(file, broken);
        try (L1Store l1 = L1Store.open(file, 1000)) {
            assertThat(l1.size()).isZero();
            assertThat(l1.apply(RouteEntry.found(KEY, "http://b:1/", true, 2, 5))).isTrue();
            assertThat(l1.get(KEY, KEY).url()).isEqualTo("http://b:1/");
        }
        List<Path> aside;
        try (Stream<Path> files = Files.list(dir)) {
            aside = files.filter(p -> p.getFileName().toString().startsWith("routes.l1.broken-")).toList();
        }
        assertThat(aside).hasSize(1);
        assertThat(Files.readAllBytes(aside.get(0))).isEqualTo(broken);
        Files.delete(aside.get(0));
    }

    @Test
    void aGarbageFileIsMovedAsideAndANewOneCreated() throws Exception {
        byte[] garbage = new byte[100_000];
        new Random(7).nextBytes(garbage);
        opensFreshAndKeepsTheBrokenOneAside(dir.resolve("routes.l1"), garbage);
    }

    @Test
    void aTruncatedFileIsMovedAsideAndANewOneCreated() throws Exception {
        Path file = filled();
        byte[] whole = Files.readAllBytes(file);
        opensFreshAndKeepsTheBrokenOneAside(file, Arrays.copyOf(whole, whole.length / 3));
        opensFreshAndKeepsTheBrokenOneAside(file, Arrays.copyOf(whole, 200));
    }

    @Test
    void aFileOfAnotherLayoutIsMovedAside() throws Exception {
        Path file = dir.resolve("routes.l1");
        try (ChronicleMap<Long, Long> other = ChronicleMap.of(Long.class, Long.class).entries(100).createPersistedTo(file.toFile())) {
            other.put(1L, 2L);
        }
        opensFreshAndKeepsTheBrokenOneAside(file, Files.readAllBytes(file));
    }

    @Test
    void aFileOfThePreviousReleaseIsMovedAsideAndRebuilt() throws Exception {
        Path file = dir.resolve("routes.l1");
        // The layout before issue 16: map "tm-routes", values of entry format 1 (the URL in ASCII after the header).
        try (ChronicleMap<CharSequence, byte[]> previous = ChronicleMap.of(CharSequence.class, byte[].class).name("tm-routes")
                .entries(100).averageKey(KEY).averageValueSize(64).createPersistedTo(file.toFile())) {
            byte[] format1 = new byte[18 + 11];
            format1[0] = 1;
            format1[1] = 3;
            System.arraycopy("http://a:1/".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, format1, 18, 11);
            previous.put(KEY, format1);
        }
        opensFreshAndKeepsTheBrokenOneAside(file, Files.readAllBytes(file));
    }

    @Test
    void theFolderIsCreatedForTheSidecarAlone() throws Exception {
        Path folder = dir.resolve("a/b/traffic-manager");
        L1Store.open(folder.resolve("routes.l1"), 1000).close();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(folder))).isEqualTo("rwx------");
    }

    @Test
    void aFolderOthersMayWriteToOrOwnIsRefused() throws Exception {
        Path open = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> L1Store.open(open.resolve("routes.l1"), 1000))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("writable by every user")
                .hasMessageContaining(open.toString());
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxr-x"));
        assertThatThrownBy(() -> L1Store.open(open.resolve("routes.l1"), 1000)).hasMessageContaining("writable by its group");

        Path foreign = Files.createDirectory(dir.resolve("foreign"));
        Files.setAttribute(foreign, "unix:uid", 65534);
        assertThatThrownBy(() -> L1Store.open(foreign.resolve("routes.l1"), 1000))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("owned by uid 65534");
        assertThat(foreign.resolve("routes.l1")).doesNotExist();

        Path link = Files.createSymbolicLink(dir.resolve("link"), Files.createDirectory(dir.resolve("target")));
        assertThatThrownBy(() -> L1Store.open(link.resolve("routes.l1"), 1000)).hasMessageContaining("symbolic link");
    }
}
