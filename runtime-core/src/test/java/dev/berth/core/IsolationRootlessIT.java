package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.internal.RootlessStart;
import dev.berth.core.testing.TestRootfs;
import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRootless;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link IsolationIT} run by an ordinary user (.ci/rootless-suite.sh): the container is isolated the
 * same way inside a user namespace whose root is that user. Where rootless differs, the expectation
 * says how: no device cgroup, so no CAP_MKNOD by default; the init is closed to the user (its
 * namespaces are read through its child); the user cannot mount on the host.
 */
@RequiresRootless
class IsolationRootlessIT extends IsolationIT {

    /** Without a device cgroup (none exists for a rootless runtime) the default set leaves out CAP_MKNOD. */
    @Override
    protected long defaultCapabilities() {
        return super.defaultCapabilities() & ~(1L << Capability.MKNOD.bit());
    }

    @Override
    protected long namespaceHolder(Container c) {
        long pid = RootlessStart.inspectable(c.pid());
        assertThat(pid).as("the init's child (the target), not the init closed to the user").isNotEqualTo(c.pid());
        return pid;
    }

    /**
     * The user cannot make a nosuid mount to start from (mount needs root on the host), so this
     * checks the same promise on the mount the test root lives on: the remount that makes the root
     * nodev (and read-only) keeps every flag the host mount has (in a user namespace the kernel
     * locks them: a remount that cleared one would fail), and the root is nodev.
     */
    @Override
    @Test
    void theRootKeepsTheNosuidOfTheHostMountItLivesOn() throws Exception {
        Preconditions.requireUnprivileged();
        List<String> locked = hostMountFlags(TestRootfs.path().toRealPath());
        for (boolean readOnly : new boolean[] {false, true}) {
            String mountinfo = run(probe("cat", "/proc/self/mountinfo").readonlyRootfs(readOnly)).stdout();
            String options = mountinfo.lines().map(l -> l.split(" ")).filter(f -> f.length > 6 && f[4].equals("/"))
                    .map(f -> f[5]).findFirst().orElseThrow();
            List<String> expected = new ArrayList<>(locked);
            expected.addAll(List.of("nodev", readOnly ? "ro" : "rw"));
            assertThat(options.split(",")).as("root mount options, read-only=" + readOnly + ", host mount " + locked)
                    .contains(expected.toArray(String[]::new));
        }
    }

    /** The lockable per-mount flags (nosuid, noexec, nodev, the atime mode) of the host mount holding {@code p}. */
    private static List<String> hostMountFlags(Path p) throws Exception {
        String best = null;
        String flags = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            String point = f[4].replace("\\040", " ");
            if (p.startsWith(point) && (best == null || point.length() >= best.length())) {
                best = point;
                flags = f[5];
            }
        }
        assertThat(flags).as("host mount of " + p).isNotNull();
        List<String> out = new ArrayList<>();
        for (String o : flags.split(",")) {
            if (List.of("nosuid", "noexec", "nodev", "noatime", "relatime", "nodiratime").contains(o)) {
                out.add(o);
            }
        }
        return out;
    }
}
