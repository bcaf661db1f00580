package dev.berth.network;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A directory of stand-in CNI plugins (shell scripts): each records its invocation (command,
 * environment, stdin) as a file, answers ADD with a fixed result, and fails with a CNI error
 * object where a {@code fail-<type>-<command>} file exists.
 */
final class FakePlugins {
    static final String RESULT = "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"berth0\"},"
            + "{\"name\":\"eth0\",\"mac\":\"02:42:0a:59:00:02\",\"sandbox\":\"/run/netns/x\"}],"
            + "\"ips\":[{\"address\":\"10.89.0.2/24\",\"gateway\":\"10.89.0.1\",\"interface\":1}]}";

    final Path dir;
    final Path calls;
    /** A stand-in iptables: {@code -C} answers from {@link #rules}, {@code -I} adds a line, {@code -D} takes it out. */
    final Path iptables;
    final Path rules;

    FakePlugins(Path root) throws IOException {
        dir = Files.createDirectories(root.resolve("plugins"));
        calls = Files.createDirectories(root.resolve("calls"));
        iptables = root.resolve("iptables");
        rules = root.resolve("iptables.rules");
        Files.writeString(rules, "");
        Files.writeString(iptables, "#!/bin/sh\nop=$2; shift 3; r=\"$*\"\ncase $op in\n"
                + "  -C) grep -qxF -- \"$r\" " + rules + " ;;\n"
                + "  -I) echo \"$r\" >> " + rules + " ;;\n"
                + "  -D) grep -vxF -- \"$r\" " + rules + " > " + rules + ".n; mv " + rules + ".n " + rules + " ;;\n"
                + "esac\n");
        Files.setPosixFilePermissions(iptables, PosixFilePermissions.fromString("rwx------"));
        for (String type : List.of("bridge", "portmap", "firewall")) {
            Path p = dir.resolve(type);
            Files.writeString(p, "#!/bin/sh\n"
                    + "n=$(ls " + calls + " | wc -l)\n"
                    + "f=" + calls + "/$(printf %04d $n)-" + type + "-$CNI_COMMAND\n"
                    + "{ echo \"env $CNI_COMMAND $CNI_CONTAINERID $CNI_NETNS $CNI_IFNAME $CNI_PATH\"; cat; } > $f\n"
                    + "if [ -e " + dir + "/fail-" + type + "-$CNI_COMMAND ]; then\n"
                    + "  echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"failed to do " + type + "\",\"details\":\"because\"}'\n"
                    + "  exit 1\nfi\n"
                    + "if [ \"$CNI_COMMAND\" = ADD ]; then echo '" + RESULT + "'; fi\n");
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        }
    }

    void fail(String type, String command) throws IOException {
        Files.writeString(dir.resolve("fail-" + type + "-" + command), "");
    }

    /** The invocations so far, in order: "type COMMAND". */
    List<String> invocations() throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(calls)) {
            for (Path p : s.sorted().toList()) {
                String[] f = p.getFileName().toString().split("-", 2);
                out.add(f[1].replace('-', ' '));
            }
        }
        return out;
    }

    /** What the n-th invocation read on stdin, and its environment line first. */
    List<String> invocation(int n) throws IOException {
        try (Stream<Path> s = Files.list(calls)) {
            return Files.readAllLines(s.sorted().toList().get(n), StandardCharsets.UTF_8);
        }
    }

    void clear() throws IOException {
        try (Stream<Path> s = Files.list(calls)) {
            for (Path p : s.toList()) {
                Files.delete(p);
            }
        }
    }
}
