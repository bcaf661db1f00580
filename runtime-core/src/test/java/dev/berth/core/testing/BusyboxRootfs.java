package dev.berth.core.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * A root directory with Debian's static busybox ({@code busybox-static}, which CI installs), links for
 * the applets the tests use, a minimal /etc/passwd and /etc/group, and a web root at /www, for
 * containers that run a shell or a server.
 */
public final class BusyboxRootfs {
    private static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final List<String> APPLETS = List.of("sh", "sleep", "cat", "echo", "printf", "head", "seq",
            "yes", "dd", "true", "false", "kill", "wc", "ls", "test", "touch", "rm", "mkdir", "httpd", "nc",
            "killall", "pkill", "wget", "ps");

    private BusyboxRootfs() {}

    /** Makes (or reuses) {@code dir} as a busybox root and returns it. */
    public static Path at(Path dir) throws IOException {
        if (!Files.isExecutable(BUSYBOX)) {
            throw new IllegalStateException(BUSYBOX + " is missing: install busybox-static (.ci/install-deps.sh does)");
        }
        for (String d : List.of("bin", "proc", "sys", "dev", "tmp", "etc", "www")) {
            Files.createDirectories(dir.resolve(d));
        }
        Files.copy(BUSYBOX, dir.resolve("bin/busybox"), StandardCopyOption.REPLACE_EXISTING);
        for (String a : APPLETS) {
            Path link = dir.resolve("bin").resolve(a);
            if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, Path.of("busybox"));
            }
        }
        Files.writeString(dir.resolve("www/index.html"), "ok\n");
        Files.writeString(dir.resolve("etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
        Files.writeString(dir.resolve("etc/group"), "root:x:0:\n");
        return dir;
    }

    /** {@link #at(Path)}. */
    public static Path create(Path dir) throws IOException {
        return at(dir);
    }
}
