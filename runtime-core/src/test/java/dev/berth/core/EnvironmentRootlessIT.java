package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cgroups.Resources;
import dev.berth.core.internal.RootlessStart;
import dev.berth.core.testing.RootlessIds;
import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRootless;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link EnvironmentIT} run by an ordinary user (.ci/rootless-suite.sh): identity, environment, working
 * directory, host name and the generated /etc files of a rootless container. Where rootless differs, the
 * expectation says how: without a delegated cgroup v2 subtree (none on this hybrid host) the container has no
 * cgroup of its own and a limit is refused in one line; the user cannot mount a read-only file system to start
 * from, so a root directory the user may not write stands in for it.
 */
@RequiresRootless
class EnvironmentRootlessIT extends EnvironmentIT {
    private static RootlessIds ids;

    @BeforeAll
    static void ids() {
        ids = RootlessIds.require();
    }

    /** Without a delegated cgroup a limit cannot be kept: the start says so in one line and leaves nothing. */
    @Override
    @Test
    void theContainerReadsItsOwnLimitsReadOnlyAndNothingAboveItsCgroup() throws Exception {
        Preconditions.requireUnprivileged();
        String id = "rl-env-" + Long.toHexString(System.nanoTime() & 0xffffff);
        assertThatThrownBy(() -> runtime.start(id, probe("true").resources(Resources.builder()
                .memoryMax(64L << 20).cpus(0.5).pidsMax(100).build()).build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageStartingWith("rootless: --memory needs a delegated cgroup v2 subtree (none found for uid " + ids.uid())
                .hasMessageEndingWith("see docs/rootless.md)")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(stateRoot.resolve(id)).doesNotExist();
    }

    /**
     * No cgroup of its own (nothing is delegated on this host): no cgroup hierarchy at all is mounted in the
     * container (/sys/fs/cgroup is sysfs's empty directory), so none of the embedding JVM's (or the host's)
     * shows, and nothing can be made there.
     */
    @Override
    @Test
    void withoutLimitsNoHierarchyOfTheEmbeddingJvmsCgroupIsShown() throws Exception {
        Preconditions.requireUnprivileged();
        String out = run(probe("ls", "/sys/fs/cgroup", "--", "mkdir", "/sys/fs/cgroup/escape", "--", "cat",
                "/proc/self/mountinfo")).stdout();
        List<String> lines = out.lines().toList();
        // ls printed nothing: sysfs's own empty mount point directory; sysfs refuses a mkdir (ENOENT)
        assertThat(lines.get(0)).isEqualTo("mkdir /sys/fs/cgroup/escape: No such file or directory");
        assertThat(lines.subList(1, lines.size())).as("no cgroup file system mounted")
                .noneMatch(l -> l.contains(" - cgroup ") || l.contains(" - cgroup2 "));
    }

    /**
     * The user cannot mount a read-only file system to start from. A root directory whose /etc the user may not
     * write (0555) is no stand-in: the container's root is the user, with CAP_DAC_OVERRIDE in its user namespace
     * over the user's own files, so it makes the mount points there as root does in a writable root, and every
     * generated file is there; the directory keeps its mode, and the mount points stay empty.
     */
    @Override
    @Test
    void aRootOnAReadOnlyFileSystemStartsWithTheFilesItHasMountPointsFor() throws Exception {
        Preconditions.requireUnprivileged();
        Path copy = Files.createDirectories(tmp.resolve("ro-root"));
        dev.berth.core.testing.HostCommand.run("cp", "-a", dev.berth.core.testing.TestRootfs.path() + "/.", copy.toString());
        Files.deleteIfExists(copy.resolve("etc/hosts"));
        Files.deleteIfExists(copy.resolve("etc/resolv.conf"));
        Files.write(copy.resolve("etc/hostname"), new byte[0]);
        Files.setPosixFilePermissions(copy.resolve("etc"), PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            String out = run(probe("cat", "/etc/hostname", "--", "hosts", "read-only", "--", "stat", "/etc/resolv.conf")
                    .rootfs(copy).hostname("read-only")).stdout();
            assertThat(out.lines().toList().subList(0, 2)).containsExactly("read-only", "127.0.0.1 ::1");
            assertThat(out.lines().toList().get(2)).startsWith("file ");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(copy.resolve("etc"))))
                    .isEqualTo("r-xr-xr-x");
            for (String f : List.of("hosts", "hostname", "resolv.conf")) {
                assertThat(copy.resolve("etc").resolve(f)).isEmptyFile();
            }
        } finally {
            Files.setPosixFilePermissions(copy.resolve("etc"), PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    private static Map<String, String> status(long pid) throws Exception {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream().filter(l -> l.contains(":"))
                .collect(Collectors.toMap(l -> l.substring(0, l.indexOf(':')), l -> l.substring(l.indexOf(':') + 1).trim(),
                        (a, b) -> a));
    }

    /**
     * Runs {@code id} then sleeps: the host reads the target's /proc/PID/status while it runs. Returns {id line,
     * host Uid line, host Gid line}.
     */
    private static List<String> insideAndOutside(ContainerSpec.Builder spec) throws Exception {
        try (Container c = runtime.start(spec.command("/bin/probe", "id", "--", "sleep", "60").build())) {
            BufferedReader out = new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8));
            String id = out.readLine();
            long target = RootlessStart.inspectable(c.pid());
            assertThat(target).as("the target, not the init closed to the user").isNotEqualTo(c.pid());
            Map<String, String> s = status(target);
            c.kill();
            c.waitFor();
            return List.of(id, s.get("Uid"), s.get("Gid"));
        }
    }

    @Test
    void rootInsideIsTheUserOnTheHostAndUid1000IsItsSubordinateUid1000() throws Exception {
        Preconditions.requireUnprivileged();
        assertThat(insideAndOutside(probe())).containsExactly("uid=0 gid=0 euid=0 egid=0",
                ids.uid() + "\t" + ids.uid() + "\t" + ids.uid() + "\t" + ids.uid(), ids.gid() + "\t" + ids.gid() + "\t" + ids.gid() + "\t" + ids.gid());
        long u = ids.subuid().start() + 999;
        long g = ids.subgid().start() + 999;
        assertThat(insideAndOutside(probe().user("1000"))).containsExactly("uid=1000 gid=1000 euid=1000 egid=1000",
                u + "\t" + u + "\t" + u + "\t" + u, g + "\t" + g + "\t" + g + "\t" + g);
        long staff = ids.subgid().start() + 49;
        assertThat(insideAndOutside(probe().user("alice:staff"))).containsExactly("uid=1000 gid=50 euid=1000 egid=50",
                u + "\t" + u + "\t" + u + "\t" + u, staff + "\t" + staff + "\t" + staff + "\t" + staff);
    }

    @Test
    void homePathHostnameWorkdirAndTheEtcFilesAreThere() throws Exception {
        String root = run(probe("env", "--", "pwd", "--", "hostname", "--", "stat", "/etc/hosts", "--", "stat",
                "/etc/resolv.conf", "--", "stat", "/etc/hostname").hostname("rl-box")).stdout();
        assertThat(root.lines()).contains("HOME=/root", "HOSTNAME=rl-box", "/", "rl-box")
                .anyMatch(l -> l.startsWith("PATH=/usr/local/sbin:"))
                .doesNotContain("/etc/hosts: No such file or directory", "/etc/resolv.conf: No such file or directory");
        String alice = run(probe("env", "--", "pwd", "--", "id").user("alice").workingDir("/home/alice").env("PATH", "/bin")).stdout();
        assertThat(alice.lines()).contains("HOME=/home/alice", "PATH=/bin", "/home/alice",
                "uid=1000 gid=1000 euid=1000 egid=1000");
        assertThat(run(probe("hosts", "rl-box", "--", "hosts", "localhost").hostname("rl-box")).stdout().lines())
                .containsExactly("127.0.0.1 ::1", "127.0.0.1 ::1");
    }
}
