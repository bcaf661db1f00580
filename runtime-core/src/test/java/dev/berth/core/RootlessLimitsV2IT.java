package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.testing.BusyboxRootfs;
import dev.berth.core.testing.RootlessLimitsMain;
import dev.berth.testing.DelegatedCgroup;
import dev.berth.testing.RequiresCgroupV2;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rootless containers with limits on a real cgroup v2 kernel (the VM suite, as root): a cgroup is
 * delegated to the ordinary user berth-rootless as systemd's Delegate=yes does, and an embedding JVM
 * run as that user inside it ({@link RootlessLimitsMain}; the single-id mapping: empty subuid and
 * subgid files) starts rootless containers with a memory and a pids limit. The limits hold (a memory
 * hog is OOM-killed, a fork loop fails to fork past pids.max), the container sees its own limits,
 * the preflight reports the delegation, and afterwards only the JVM's own leaf is left.
 */
@RequiresCgroupV2
class RootlessLimitsV2IT {
    @TempDir
    Path tmp;

    @Test
    void aRootlessRuntimeInADelegatedCgroupEnforcesMemoryAndPidsLimitsAndCleansUp() throws Exception {
        try (DelegatedCgroup d = DelegatedCgroup.create("berth-rootless", "cpu", "memory", "pids")) {
            String cp = DelegatedCgroup.copyClassPath(tmp.resolve("cp"));
            Path rootfs = BusyboxRootfs.at(tmp.resolve("busybox"));
            Path subuid = Files.writeString(tmp.resolve("subuid"), "");
            Path subgid = Files.writeString(tmp.resolve("subgid"), "");
            Path home = Files.createDirectory(tmp.resolve("home"));
            DelegatedCgroup.Run run = d.runJava(cp, home, RootlessLimitsMain.class.getName(), List.of(
                    home.resolve("state").toString(), home.resolve("storage").toString(), rootfs.toString(),
                    subuid.toString(), subgid.toString()), 600);
            String out = run.output();
            assertThat(run.exitCode()).as(out).isZero();
            Map<String, String> facts = new LinkedHashMap<>();
            for (String line : out.split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    facts.putIfAbsent(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            assertThat(facts).as(out)
                    .containsEntry("rootless", "true")
                    .containsEntry("driver", d.dir.resolve("berth").toString())
                    .containsEntry("preflight", d.dir + " (controllers: cpu memory pids)")
                    .containsEntry("cgroup.memory.max", Long.toString(32L << 20))
                    .containsEntry("cgroup.pids.max", "16")
                    .containsEntry("left", "[]");
            assertThat(facts.get("hog")).as(out).isEqualTo(ExitStatus.killed(9).toString() + " (OOM killed)");
            // root inside, and its own limits at /sys/fs/cgroup
            assertThat(facts.get("hog.out")).as(out).isEqualTo("0," + (32L << 20) + ",16");
            assertThat(facts.get("bomb.err")).as(out).containsIgnoringCase("fork");
            assertThat(out).contains("\nok\n");
            try (Stream<Path> s = Files.list(d.dir)) {
                assertThat(s.filter(Files::isDirectory).map(x -> x.getFileName().toString()))
                        .as("only the leaf the JVM moved itself into").containsExactly("supervisor");
            }
            assertThat(Files.readString(d.dir.resolve("supervisor/cgroup.procs"))).isBlank();
        }
    }
}
