package dev.trafficmanager.proxy.lookup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The folder of the L1 file, which the node's sidecars share and whose entries decide where traffic
 * goes: created with mode 0700, and an existing one is refused unless this process's user owns it
 * and no one else may write to it (a world-writable {@code /var/tmp} lets anyone create the folder
 * first and plant a file). Also moves a file that does not open aside, so a sidecar starts anyway.
 */
final class L1Directory {
    private static final Logger log = LoggerFactory.getLogger(L1Directory.class);
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS");

    private L1Directory() {
    }

    /** Creates {@code dir} (mode 0700, parents as needed) or checks an existing one; throws saying why not. */
    static void prepare(Path dir) {
        try {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                if (dir.getParent() != null) {
                    Files.createDirectories(dir.getParent());
                }
                try {
                    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } catch (FileAlreadyExistsException raced) {
                    // another sidecar made it meanwhile: checked below like any existing folder
                }
            }
            String problem = problem(dir);
            if (problem != null) {
                throw new IllegalStateException("the L1 folder " + dir + " " + problem + " (expected: a folder owned by uid "
                        + ownUid() + ", the sidecar's user, that no one else may write to; mode 0700 when the sidecar creates it)");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the L1 folder " + dir, e);
        }
    }

    private static String problem(Path dir) throws IOException {
        if (Files.isSymbolicLink(dir)) {
            return "is a symbolic link";
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return "is not a folder";
        }
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (owner != ownUid()) {
            return "is owned by uid " + owner;
        }
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
            return "is writable by " + (mode.contains(PosixFilePermission.OTHERS_WRITE) ? "every user" : "its group")
                    + " (mode " + PosixFilePermissions.toString(mode) + ")";
        }
        return null;
    }

    /** This process's user id (the owner of /proc/self). */
    static int ownUid() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    }

    /** Renames {@code file} to {@code <file>.broken-<timestamp>} so a new one can be created in its place. */
    static void moveAside(Path file, Throwable why) {
        Path aside = file.resolveSibling(file.getFileName() + ".broken-" + LocalDateTime.now().format(STAMP));
        try {
            Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("the L1 file " + file + " does not open (" + why + ") and cannot be moved aside", e);
        }
        log.error("the L1 file {} does not open ({}); moved it aside to {} and created a new one: routes are read "
                + "from Kafka, Redis and PostgreSQL again", file, why.toString(), aside);
    }
}
