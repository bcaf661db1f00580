package dev.berth.core.testing;

import dev.berth.cgroups.Resources;
import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The child JVM of {@code RootlessLimitsV2IT}: an embedding application run by an ordinary user in a
 * cgroup delegated to it. Starts rootless containers with a memory and a pids limit and prints one
 * {@code key=value} per fact for the parent to assert; exits non-zero on any failure.
 * Usage: RootlessLimitsMain STATE_ROOT STORAGE_ROOT ROOTFS SUBUID SUBGID
 */
public final class RootlessLimitsMain {
    private RootlessLimitsMain() {}

    public static void main(String[] args) throws Exception {
        Resources limits = Resources.builder().memoryMax(32L << 20).memorySwap(32L << 20).pidsMax(16).build();
        Path rootfs = Path.of(args[2]);
        Path outs = Path.of(args[1]).getParent(); // the containers' output files: beside the roots
        try (ContainerRuntime rt = ContainerRuntime.builder().stateRoot(Path.of(args[0])).storageRoot(Path.of(args[1]))
                .subordinateIds(Path.of(args[3]), Path.of(args[4])).build()) {
            System.out.println("rootless=" + rt.rootless());
            System.out.println("driver=" + rt.cgroupDriver().map(d -> d.parentPaths().get(0).toString()).orElse("none"));
            System.out.println("preflight=" + rt.preflight().check("cgroupDelegation").orElseThrow().found());
            try (Container c = rt.start("rl-limits", ContainerSpec.builder().rootfs(rootfs).resources(limits)
                    .command("/bin/sh", "-c", "/bin/busybox id -u; cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max;"
                            + " read x; exec /bin/busybox awk 'BEGIN { s = \"x\"; while (1) { s = s s; t[n++] = s } }'")
                    .stdin(Stdio.pipe()).stdout(Stdio.file(outs.resolve("hog.out"))).build())) {
                // read while it waits for its stdin before the hog (its cgroup goes with its exit)
                Path dir = rt.cgroupDriver().orElseThrow().parentPaths().get(0).resolve("rl-limits");
                System.out.println("cgroup.memory.max=" + Files.readString(dir.resolve("memory.max")).trim());
                System.out.println("cgroup.pids.max=" + Files.readString(dir.resolve("pids.max")).trim());
                try (java.io.OutputStream in = c.stdin()) {
                    in.write('\n'); // now the hog
                }
                ExitStatus st = c.onExit().get(120, TimeUnit.SECONDS);
                System.out.println("hog=" + st);
            }
            System.out.println("hog.out=" + String.join(",", Files.readAllLines(outs.resolve("hog.out"))));
            try (Container c = rt.start("rl-bomb", ContainerSpec.builder().rootfs(rootfs).resources(limits)
                    .command("/bin/sh", "-c", "i=0; while [ $i -lt 100 ]; do sleep 60 & i=$((i+1)); done; echo done; wait")
                    .stdout(Stdio.discard()).stderr(Stdio.file(outs.resolve("bomb.err"))).build())) {
                ExitStatus st = c.onExit().get(120, TimeUnit.SECONDS);
                System.out.println("bomb=" + st);
            }
            System.out.println("bomb.err=" + String.join(",", Files.readAllLines(outs.resolve("bomb.err"))));
            System.out.println("left=" + rt.cgroupDriver().orElseThrow().list());
        }
        System.out.println("ok");
    }
}
