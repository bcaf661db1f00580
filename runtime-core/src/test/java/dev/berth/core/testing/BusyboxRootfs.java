package dev.berth.core.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Assumptions;

/** A root directory with the host's static busybox and its applets as symlinks, and a web root at /www. */
public final class BusyboxRootfs {
    private static final String[] APPLETS = {"sh", "test", "touch", "rm", "sleep", "cat", "echo", "httpd", "nc",
            "killall", "pkill", "ls", "mkdir", "true", "false", "wget", "kill", "ps"};

    private BusyboxRootfs() {}

    public static Path create(Path dir) throws IOException {
        Path busybox = Path.of("/bin/busybox");
        Assumptions.assumeTrue(Files.isExecutable(busybox), "busybox-static is not installed");
        for (String d : new String[] {"bin", "tmp", "proc", "sys", "dev", "etc", "www"}) {
            Files.createDirectories(dir.resolve(d));
        }
        Files.copy(busybox, dir.resolve("bin/busybox"), StandardCopyOption.REPLACE_EXISTING);
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
}
