package dev.berth.core.testing;

import dev.berth.core.testing.HostCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A root for network tests: the host's static busybox (sh, httpd, nslookup, sleep) and, for
 * fetching by name, GNU wget and getent with the libraries ldd names and glibc's files and dns
 * NSS modules (a static busybox's own wget crashes looking a name up: its libc cannot load NSS).
 */
public final class NetRootfs {
    public static final Path BUSYBOX = Path.of("/bin/busybox");

    private NetRootfs() {}

    public static boolean available() {
        return Files.isExecutable(BUSYBOX) && Files.isExecutable(Path.of("/usr/bin/wget"))
                && Files.isExecutable(Path.of("/usr/bin/getent")) && Files.isExecutable(Path.of("/usr/lib/cni/bridge"));
    }

    public static Path build(Path dir) throws IOException, InterruptedException {
        for (String d : List.of("bin", "proc", "sys", "dev", "tmp", "etc", "www")) {
            Files.createDirectories(dir.resolve(d));
        }
        Files.copy(BUSYBOX, dir.resolve("bin/busybox"), StandardCopyOption.REPLACE_EXISTING);
        Files.createSymbolicLink(dir.resolve("bin/sh"), Path.of("busybox"));
        List<String> files = new ArrayList<>(List.of("/usr/bin/wget", "/usr/bin/getent"));
        Matcher m = Pattern.compile("(/\\S+\\.so\\S*)").matcher(HostCommand.run("ldd", "/usr/bin/wget", "/usr/bin/getent"));
        while (m.find()) {
            files.add(m.group(1));
        }
        for (String lib : List.of("libnss_files.so.2", "libnss_dns.so.2")) {
            for (String d : List.of("/lib/x86_64-linux-gnu/", "/lib/aarch64-linux-gnu/")) {
                if (Files.exists(Path.of(d + lib))) {
                    files.add(d + lib);
                }
            }
        }
        for (String f : files) {
            Path to = dir.resolve(f.substring(1));
            Files.createDirectories(to.getParent());
            Files.copy(Path.of(f), to, StandardCopyOption.REPLACE_EXISTING); // follows links: the file itself
        }
        Files.writeString(dir.resolve("etc/nsswitch.conf"), "hosts: files dns\n");
        Files.writeString(dir.resolve("www/index.html"), "hello\n");
        for (String f : List.of("etc/hosts", "etc/hostname", "etc/resolv.conf")) {
            Files.writeString(dir.resolve(f), "");
        }
        return dir;
    }
}
