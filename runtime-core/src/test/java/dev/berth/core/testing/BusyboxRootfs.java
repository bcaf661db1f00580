package dev.berth.core.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * A root directory with Debian's static busybox ({@code busybox-static}, which CI installs) and links
 * for the applets the tests use, for containers that run a shell.
 */
public final class BusyboxRootfs {
    private static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final List<String> APPLETS = List.of("sh", "sleep", "cat", "echo", "printf", "head", "seq",
            "yes", "dd", "true", "kill", "wc", "ls", "test", "touch", "rm");

    private BusyboxRootfs() {}

    /** Makes (or reuses) {@code dir} as a busybox root and returns it. */
    public static Path at(Path dir) throws IOException {
        if (!Files.isExecutable(BUSYBOX)) {
            throw new IllegalStateException(BUSYBOX + " is missing: install busybox-static (.ci/install-deps.sh does)");
        }
        for (String d : List.of("bin", "proc", "sys", "dev", "tmp", "etc")) {
            Files.createDirectories(dir.resolve(d));
        }
        Files.copy(BUSYBOX, dir.resolve("bin/busybox"), StandardCopyOption.REPLACE_EXISTING);
        for (String a : APPLETS) {
            Path link = dir.resolve("bin").resolve(a);
            if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, Path.of("busybox"));
            }
        }
        return dir;
    }
}
