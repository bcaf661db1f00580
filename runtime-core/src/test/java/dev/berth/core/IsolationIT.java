package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.HostCommand;
import dev.berth.testing.RequiresRoot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** What the target sees: namespaces, root, /dev, /proc, /sys, identity, capabilities. */
@RequiresRoot
class IsolationIT extends ContainerTestSupport {

    private static Map<String, String> status(ContainerSpec.Builder spec) throws Exception {
        Result r = run(spec);
        return r.stdout().lines().filter(l -> l.contains(":"))
                .collect(Collectors.toMap(l -> l.substring(0, l.indexOf(':')), l -> l.substring(l.indexOf(':') + 1).trim(),
                        (a, b) -> a));
    }

    /**
     * The capability set a container gets by default: Docker's. The rootless re-run (no device
     * cgroup there) expects it without CAP_MKNOD.
     */
    protected long defaultCapabilities() {
        return 0xa80425fbL;
    }

    private String defaultCaps() {
        return String.format("%016x", defaultCapabilities());
    }

    /**
     * A host pid whose {@code /proc/PID/ns} links this test may read for the container: its init's
     * (the rootless re-run's init is closed to the user, so it looks through the init's child).
     */
    protected long namespaceHolder(Container c) {
        return c.pid();
    }

    @Test
    void hostnameIsTheContainersOwn() throws Exception {
        String host = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        assertThat(run(probe("hostname").hostname("box-1")).stdout()).isEqualTo("box-1\n");
        assertThat(Files.readString(Path.of("/proc/sys/kernel/hostname")).trim()).isEqualTo(host);
        try (Container c = runtime.start("named-1", probe("hostname").build())) {
            assertThat(new String(c.stdout().readAllBytes())).isEqualTo("named-1\n");
        }
    }

    @Test
    void theTargetSeesOnlyTheContainersProcesses() throws Exception {
        List<String> pids = output("ps").lines().toList();
        assertThat(pids).containsExactlyInAnyOrder("1", "2"); // the init and the target itself
    }

    @Test
    void hostFilesAreInvisible() throws Exception {
        Path sentinel = Files.writeString(tmp.resolve("host-sentinel"), "secret");
        assertThat(output("cat", sentinel.toString())).contains("No such file or directory");
        assertThat(output("cat", "/etc/passwd"))
                .isEqualTo(Files.readString(dev.berth.core.testing.TestRootfs.path().resolve("etc/passwd")));
        assertThat(run(probe("stat", "/work")).stdout()).contains("No such file or directory");
    }

    @Test
    void capabilitiesAreDockersDefaultsWithEmptyInheritableAndAmbient() throws Exception {
        Map<String, String> s = status(probe("status"));
        assertThat(s.get("CapEff")).isEqualTo(defaultCaps());
        assertThat(s.get("CapPrm")).isEqualTo(defaultCaps());
        assertThat(s.get("CapBnd")).isEqualTo(defaultCaps());
        assertThat(s.get("CapInh")).isEqualTo("0000000000000000");
        assertThat(s.get("CapAmb")).isEqualTo("0000000000000000");
        assertThat(s.get("NoNewPrivs")).isEqualTo("1");
        assertThat(s.get("SigIgn")).isEqualTo("0000000000000000");
        assertThat(s.get("SigBlk")).isEqualTo("0000000000000000");
    }

    @Test
    void capabilitiesCanBeAddedAndDropped() throws Exception {
        Map<String, String> s = status(probe("status").addCapabilities(Capability.NET_ADMIN, Capability.SYS_PTRACE)
                .dropCapabilities(Capability.NET_RAW, Capability.MKNOD));
        long expected = (defaultCapabilities() | (1L << 12) | (1L << 19)) & ~(1L << 13) & ~(1L << 27);
        assertThat(Long.parseLong(s.get("CapEff"), 16)).isEqualTo(expected);
        assertThat(Long.parseLong(s.get("CapBnd"), 16)).isEqualTo(expected);
    }

    @Test
    void noNewPrivilegesCanBeOff() throws Exception {
        assertThat(status(probe("status").noNewPrivileges(false)).get("NoNewPrivs")).isEqualTo("0");
    }

    @Test
    void aCapabilityTheHostCannotGrantIsAClearError() throws Exception {
        long bnd = Long.parseLong(Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("CapBnd:")).findFirst().orElseThrow().substring(7).trim(), 16);
        Capability missing = Arrays.stream(Capability.values()).filter(c -> (bnd & (1L << c.bit())) == 0)
                .findFirst().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(missing != null,
                "this host's bounding set has every capability, so none can be refused");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> run(probe("true").addCapabilities(missing)))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageContaining(missing.capName()).hasMessageContaining("bounding set");
    }

    @Test
    void aNamedUserRunsWithItsIdsGroupsHomeAndNoCapabilities() throws Exception {
        Map<String, String> s = status(probe("status").user("alice"));
        assertThat(s.get("Uid")).isEqualTo("1000\t1000\t1000\t1000");
        assertThat(s.get("Gid")).isEqualTo("1000\t1000\t1000\t1000");
        assertThat(s.get("Groups").split("\\s+")).containsExactlyInAnyOrder("29", "50");
        assertThat(s.get("CapEff")).isEqualTo("0000000000000000");
        assertThat(s.get("CapPrm")).isEqualTo("0000000000000000");
        assertThat(s.get("CapBnd")).isEqualTo(defaultCaps());
        assertThat(run(probe("env").user("alice")).stdout()).contains("HOME=/home/alice");
        assertThat(run(probe("id").user("1234:5678")).stdout()).isEqualTo("uid=1234 gid=5678 euid=1234 egid=5678\n");
        assertThat(run(probe("id").user("alice:staff")).stdout()).isEqualTo("uid=1000 gid=50 euid=1000 egid=50\n");
    }

    @Test
    void environmentAndWorkingDirectory() throws Exception {
        String env = run(probe("env").env("GREETING", "hi there").env("PATH", "/bin")).stdout();
        assertThat(env.lines()).contains("GREETING=hi there", "PATH=/bin", "HOME=/root");
        assertThat(env.lines()).anyMatch(l -> l.startsWith("HOSTNAME="));
        assertThat(run(probe("pwd").workingDir("/home/alice")).stdout()).isEqualTo("/home/alice\n");
        // argv[0] without a slash is looked up in the container's PATH
        assertThat(run(probe("x").command("probe", "echo", "found")).stdout()).isEqualTo("found\n");
    }

    @Test
    void rlimitsApply() throws Exception {
        String limits = run(probe("cat", "/proc/self/limits").rlimit(Rlimit.Type.NOFILE, 100, 200)
                .rlimit(Rlimit.Type.CORE, 0, Rlimit.UNLIMITED)).stdout();
        assertThat(limits.lines().filter(l -> l.startsWith("Max open files")).findFirst().orElseThrow())
                .matches("Max open files\\s+100\\s+200\\s+files\\s*");
        assertThat(limits.lines().filter(l -> l.startsWith("Max core file size")).findFirst().orElseThrow())
                .matches("Max core file size\\s+0\\s+unlimited\\s+bytes\\s*");
    }

    @Test
    void devHasTheStandardNodesOnATmpfs() throws Exception {
        assertThat(output("stat", "/dev/null")).isEqualTo("char 666 1:3\n");
        assertThat(output("stat", "/dev/zero")).isEqualTo("char 666 1:5\n");
        assertThat(output("stat", "/dev/full")).isEqualTo("char 666 1:7\n");
        assertThat(output("stat", "/dev/random")).isEqualTo("char 666 1:8\n");
        assertThat(output("stat", "/dev/urandom")).isEqualTo("char 666 1:9\n");
        assertThat(output("stat", "/dev/tty")).isEqualTo("char 666 5:0\n");
        assertThat(output("stat", "/dev/pts/ptmx")).startsWith("char 666 5:2");
        assertThat(output("stat", "/dev/ptmx")).startsWith("link");
        assertThat(output("stat", "/dev/shm")).isEqualTo("dir 1777 0:0\n");
        String mounts = output("cat", "/proc/self/mounts");
        assertThat(mounts).containsPattern("(?m)^tmpfs /dev tmpfs rw,nosuid");
        assertThat(mounts).containsPattern("(?m)^devpts /dev/pts devpts rw,nosuid,noexec");
        assertThat(mounts).containsPattern("(?m)^shm /dev/shm tmpfs rw,nosuid,nodev,noexec");
        assertThat(mounts).containsPattern("(?m)^mqueue /dev/mqueue mqueue rw,nosuid,nodev,noexec");
        assertThat(mounts).containsPattern("(?m)^proc /proc proc rw,nosuid,nodev,noexec");
        assertThat(mounts).containsPattern("(?m)^sysfs /sys sysfs ro,nosuid,nodev,noexec");
    }

    @Test
    void maskedAndReadonlyPaths() throws Exception {
        int checked = 0;
        for (String p : ContainerSpec.DEFAULT_MASKED_PATHS) {
            Path host = Path.of(p);
            if (!Files.exists(host)) {
                continue; // masking is optional where the kernel lacks the path
            }
            String inside = output("stat", p);
            if (Files.isDirectory(host)) {
                assertThat(inside).as(p).startsWith("dir 555");      // an empty read-only tmpfs over it
            } else {
                assertThat(inside).as(p).isEqualTo("char 666 1:3\n"); // /dev/null bound over it
                assertThat(output("cat", p)).as(p).isEmpty();
            }
            checked++;
        }
        assertThat(checked).as("masked paths present on this kernel").isGreaterThanOrEqualTo(3);
        String mounts = output("cat", "/proc/self/mounts");
        for (String p : ContainerSpec.DEFAULT_READONLY_PATHS) {
            if (Files.exists(Path.of(p))) {
                assertThat(mounts).as(p).containsPattern("(?m)^proc " + p + " proc ro,nosuid,nodev,noexec");
            }
        }
        assertThat(mounts).containsPattern("(?m)^proc /proc/sys proc ro,");
        assertThat(mounts).containsPattern("(?m) /sys/firmware tmpfs ro,");
        assertThat(run(probe("write", "/proc/sys/kernel/hostname", "x")).stdout()).contains("Read-only file system");
    }

    @Test
    void readonlyRootfs() throws Exception {
        assertThat(run(probe("write", "/tmp/x", "data").readonlyRootfs(true)).stdout()).contains("Read-only file system");
        assertThat(Files.exists(dev.berth.core.testing.TestRootfs.path().resolve("tmp/x"))).isFalse();
    }

    @Test
    void loopbackIsUpAndTheNetworkIsTheContainersOwn() throws Exception {
        assertThat(output("lo")).isEqualTo("lo up\n");
        String dev = output("cat", "/proc/net/dev");
        assertThat(dev.lines().skip(2).map(l -> l.trim().split(":")[0])).containsExactly("lo");
    }

    @Test
    void sharingTheNetworkNamespaceSeesHostInterfaces() throws Exception {
        String dev = run(probe("cat", "/proc/net/dev").shareNamespace(Namespace.NETWORK)).stdout();
        assertThat(dev.lines().skip(2).count()).isEqualTo(Files.readAllLines(Path.of("/proc/net/dev")).size() - 2);
    }

    @Test
    void cgroupAndIpcNamespacesAreNew() throws Exception {
        assertThat(output("cat", "/proc/self/cgroup")).contains("0::/\n");
        for (String ns : List.of("ipc", "uts", "net", "mnt", "pid", "cgroup")) {
            String host = Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns)).toString();
            // the probe cannot readlink across roots, so compare through the init's host pid
            try (Container c = runtime.start(probe("sleep", "5").build())) {
                String inside = Files.readSymbolicLink(Path.of("/proc/" + namespaceHolder(c) + "/ns/" + ns)).toString();
                assertThat(inside).as(ns).isNotEqualTo(host);
                c.kill();
            }
        }
    }

    /**
     * An environment of 1.5 MiB (more than one control-socket packet, within the 2 MiB ARG_MAX
     * of an 8 MiB stack) starts; beyond what execve takes, the start fails naming the argument
     * list, before anything runs.
     */
    @Test
    void largeEnvironmentsStartAndTooLargeOnesFailNamingTheArgumentList() throws Exception {
        java.util.Map<String, String> env = new java.util.LinkedHashMap<>();
        for (int i = 0; i < 3000; i++) {
            env.put("V" + i, "x".repeat(500));
        }
        String out = run(probe("envsize").env(env)).stdout();
        long bytes = Long.parseLong(out.trim().replaceAll(".*bytes=", ""));
        assertThat(bytes).isGreaterThan(1_500_000);
        assertThat(out).startsWith("vars=300");

        java.util.Map<String, String> huge = new java.util.LinkedHashMap<>();
        for (int i = 0; i < 8000; i++) {
            huge.put("V" + i, "x".repeat(1000));
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> runtime.start(probe("envsize").env(huge).build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageStartingWith("process.args: the argument list and environment take ")
                .hasMessageContaining("execve would fail with E2BIG");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> runtime.start(probe("envsize")
                        .env("LONG", "y".repeat(200_000)).build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageMatching("process\\.env\\[\\d+\\]: 200006 bytes, more than the kernel's MAX_ARG_STRLEN of 131072.*");
    }

    /**
     * Making the root nodev (and read-only) is a remount; it must not clear what the host's mount
     * had: a root directory on a nosuid mount stays nosuid inside the container.
     */
    @Test
    void theRootKeepsTheNosuidOfTheHostMountItLivesOn() throws Exception {
        Path mnt = java.nio.file.Files.createDirectories(tmp.resolve("nosuid-mount"));
        HostCommand.run("mount", "-t", "tmpfs", "-o", "nosuid,size=64m", "tmpfs", mnt.toString());
        try {
            HostCommand.run("cp", "-a", dev.berth.core.testing.TestRootfs.path() + "/.", mnt.toString());
            for (boolean readOnly : new boolean[] {false, true}) {
                String mountinfo = run(probe("cat", "/proc/self/mountinfo").rootfs(mnt).readonlyRootfs(readOnly)).stdout();
                String options = mountinfo.lines().map(l -> l.split(" ")).filter(f -> f.length > 6 && f[4].equals("/"))
                        .map(f -> f[5]).findFirst().orElseThrow();
                assertThat(options.split(",")).as("root mount options, read-only=" + readOnly)
                        .contains("nosuid", "nodev", readOnly ? "ro" : "rw");
            }
        } finally {
            HostCommand.run("umount", mnt.toString());
        }
    }
}
