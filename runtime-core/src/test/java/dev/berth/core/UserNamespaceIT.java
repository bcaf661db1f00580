package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.HostCommand;
import dev.berth.core.testing.TestRootfs;
import dev.berth.image.ImportProgress;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Containers in a user namespace of their own (rootful): the container's root is an unprivileged host
 * range, image layers stay shared and unchowned (idmapped), and the isolation results of a container in the
 * host's user namespace hold.
 */
@RequiresRoot
class UserNamespaceIT extends ContainerTestSupport {

    /** A host range per run: B = 100000 + 65536 * k, and another one far from it. */
    private static final long BASE = 100000L + 65536L * (1 + (ProcessHandle.current().pid() % 200));
    private static final long OTHER = BASE + 65536L * 300;
    private final String run = "un" + Long.toHexString(System.nanoTime() & 0xffffff);

    private static UserNamespace mapped(long base) {
        return UserNamespace.of(base, 65536);
    }

    @BeforeAll
    static void image() throws Exception {
        Path image = HostCommand.umociImage(tmp.resolve("userns-image"), root -> {
            Files.createDirectories(root.resolve("data"));
            Files.writeString(root.resolve("data/root-file"), "from the image");
        });
        runtime.images().importImage(image, Optional.of("it/userns:1"), ImportProgress.NONE);
    }

    private static ContainerSpec.Builder inImage(long base, String... args) {
        return probe(args).rootfs(null).image("it/userns:1").userNamespace(mapped(base));
    }

    /** The image's layer that holds data/root-file, on the host. */
    private static Path layerFile() throws IOException {
        try (Stream<Path> s = Files.list(tmp.resolve("storage/layers/sha256"))) {
            return s.map(l -> l.resolve("data/root-file")).filter(Files::exists).findFirst().orElseThrow();
        }
    }

    private static long uidOf(Path p) throws IOException {
        return ((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue();
    }

    @Test
    void rootInsideIsTheMappedRangeOnTheHost() throws Exception {
        assertThat(run(inImage(BASE, "id")).stdout()).isEqualTo("uid=0 gid=0 euid=0 egid=0\n");
        assertThat(run(inImage(BASE, "cat", "/proc/self/uid_map")).stdout().trim().split("\\s+"))
                .containsExactly("0", Long.toString(BASE), "65536");
        assertThat(run(inImage(BASE, "cat", "/proc/self/gid_map")).stdout().trim().split("\\s+"))
                .containsExactly("0", Long.toString(BASE), "65536");
    }

    @Test
    void filesTheContainerMakesAreTheMappedRootsAndTheLayersStayUnchowned() throws Exception {
        String id = run + "-own";
        try (Container c = runtime.start(id, inImage(BASE, "write", "/made-inside", "x", "--", "write",
                "/data/root-file", "changed", "--", "owner", "/data/root-file", "--", "owner", "/bin/probe", "--", "owner",
                "/etc/hostname", "--", "owner", "/made-inside").build())) {
            assertThat(read(c.stdout())).isEqualTo("0:0\n0:0\n0:0\n0:0\n");
            assertThat(c.waitFor()).isEqualTo(ExitStatus.exited(0));
            Path upper = tmp.resolve("storage/containers/" + id + "/upper");
            assertThat(uidOf(upper.resolve("made-inside"))).isEqualTo(BASE);
            assertThat(uidOf(upper.resolve("data/root-file"))).as("copied up").isEqualTo(BASE);
            assertThat(uidOf(upper)).isEqualTo(BASE);
        }
        Path layer = layerFile();
        assertThat(uidOf(layer)).isEqualTo(0);
        assertThat(uidOf(layer.getParent())).isEqualTo(0);
        assertThat(Files.readString(layer)).isEqualTo("from the image");
    }

    @Test
    void twoMappingsRunAtOnceOnTheSameLayers() throws Exception {
        try (Container a = runtime.start(run + "-a", inImage(BASE, "sleep", "30").build());
                Container b = runtime.start(run + "-b", inImage(OTHER, "sleep", "30").build())) {
            Path layer = layerFile();
            Object ino = Files.getAttribute(layer, "unix:ino");
            Path inA = Path.of("/proc/" + a.pid() + "/root/data/root-file");
            Path inB = Path.of("/proc/" + b.pid() + "/root/data/root-file");
            assertThat(Files.getAttribute(inA, "unix:ino")).isEqualTo(ino);
            assertThat(Files.getAttribute(inB, "unix:ino")).isEqualTo(ino);
            // from the host, each container's view of the one file is owned by its own root
            assertThat(uidOf(inA)).isEqualTo(BASE);
            assertThat(uidOf(inB)).isEqualTo(OTHER);
            assertThat(exec(a, "owner", "/data/root-file", "--", "id")).isEqualTo("0:0\nuid=0 gid=0 euid=0 egid=0\n");
            assertThat(exec(b, "owner", "/data/root-file")).isEqualTo("0:0\n");
            assertThat(exec(a, "cat", "/proc/self/uid_map").trim().split("\\s+"))
                    .containsExactly("0", Long.toString(BASE), "65536");
            a.kill();
            b.kill();
        }
    }

    @Test
    void aDirectoryRootfsRunsIdmapped() throws Exception {
        assertThat(run(probe("id").userNamespace(mapped(BASE))).stdout()).isEqualTo("uid=0 gid=0 euid=0 egid=0\n");
        // the rootfs's files are root's on the host, and show as the container's root
        assertThat(run(probe("owner", "/bin/probe").userNamespace(mapped(BASE))).stdout()).isEqualTo("0:0\n");
    }

    @Test
    void theContainersRootCannotReadAHostRootsPrivateFile() throws Exception {
        Path secret = Files.writeString(tmp.resolve("root-only-" + run), "host secret");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        String out = run(inImage(BASE, "cat", "/secret", "--", "owner", "/secret")
                .mounts(List.of(Mount.bind(secret, "/secret")))).stdout();
        assertThat(out).contains("Permission denied").doesNotContain("host secret").contains("65534:65534");
        // the same bind mount in the host's user namespace: root reads it (the test would notice a broken mapping)
        assertThat(run(probe("cat", "/secret").mounts(List.of(Mount.bind(secret, "/secret")))).stdout())
                .contains("host secret");
    }

    @Test
    void anIdmappedBindShowsTheHostsRootAsTheContainersAndKeepsHostIdsOnDisk() throws Exception {
        Path shared = Files.createDirectories(tmp.resolve("idmapped-" + run));
        Path secret = Files.writeString(shared.resolve("root-only"), "for the container's root");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        String out = run(inImage(BASE, "cat", "/shared/root-only", "--", "owner", "/shared/root-only", "--", "write",
                "/shared/made-inside", "x").mounts(List.of(Mount.bind(shared, "/shared", "idmap")))).stdout();
        assertThat(out).isEqualTo("for the container's root0:0\n");
        assertThat(uidOf(shared.resolve("made-inside"))).as("the container's root is the host's root on disk").isZero();
        assertThatThrownBy(() -> run(probe("id").mounts(List.of(Mount.bind(shared, "/shared", "idmap")))))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("mounts[0] " + shared + ": the idmap option needs a user namespace (ContainerSpec.userNamespace)");
    }

    @Test
    void noMknodNoModuleAndNoHostPrivilegeEvenWithTheCapabilities() throws Exception {
        String out = run(inImage(BASE, "mknod", "/tmp/null", "c", "1", "3", "--", "syscall", "finit_module", "--",
                "syscall", "settimeofday").addCapabilities(Capability.SYS_MODULE, Capability.MKNOD, Capability.SYS_TIME)
                .seccomp(Seccomp.unconfined())).stdout();
        // capabilities of the container's user namespace: none of them counts on the host's kernel objects
        assertThat(out).contains("mknod /tmp/null: Operation not permitted", "settimeofday: Operation not permitted")
                .containsPattern("finit_module: (Operation not permitted|Function not implemented)");
        // in the host's user namespace the same capability passes the kernel's check (the test would notice)
        assertThat(run(probe("syscall", "settimeofday").addCapabilities(Capability.SYS_TIME)
                .seccomp(Seccomp.unconfined())).stdout()).contains("settimeofday: ok 0");
    }

    @Test
    void theHostRootsKeyringIsOutOfReachEvenUnconfined() throws Exception {
        String secret = "berth-userns-" + UUID.randomUUID();
        String planted = "berth-userns-planted-" + UUID.randomUUID();
        assertThat(host("add-key", secret, "s3cret")).startsWith("add_key: ok");
        try {
            assertThat(run(probe("read-key", secret).seccomp(Seccomp.unconfined())).stdout())
                    .as("the hole a user namespace closes").isEqualTo("key: s3cret\n");
            assertThat(run(inImage(BASE, "read-key", secret).seccomp(Seccomp.unconfined())).stdout())
                    .isEqualTo("keyctl: Required key not available\n");
            assertThat(run(inImage(BASE, "add-key", planted, "evil").seccomp(Seccomp.unconfined())).stdout())
                    .startsWith("add_key: ok");
            assertThat(host("read-key", planted)).isEqualTo("keyctl: Required key not available\n");
        } finally {
            host("revoke-key", secret);
        }
    }

    @Test
    void theIsolationResultsHold() throws Exception {
        // masked paths: /dev/null over files, an empty read-only tmpfs over directories
        int checked = 0;
        for (String p : ContainerSpec.DEFAULT_MASKED_PATHS) {
            Path host = Path.of(p);
            if (!Files.exists(host)) {
                continue;
            }
            String inside = run(inImage(BASE, "stat", p)).stdout();
            assertThat(inside).as(p).startsWith(Files.isDirectory(host) ? "dir 555" : "char 666 1:3");
            checked++;
        }
        assertThat(checked).isGreaterThanOrEqualTo(3);
        String mounts = run(inImage(BASE, "cat", "/proc/self/mounts")).stdout();
        for (String p : ContainerSpec.DEFAULT_READONLY_PATHS) {
            if (Files.exists(Path.of(p))) {
                assertThat(mounts).as(p).containsPattern("(?m)^proc " + p + " proc ro,nosuid,nodev,noexec");
            }
        }
        assertThat(mounts).containsPattern("(?m)^proc /proc proc rw,nosuid,nodev,noexec");
        assertThat(mounts).containsPattern("(?m)^sysfs /sys sysfs ro,nosuid,nodev,noexec");
        assertThat(mounts).containsPattern("(?m)^devpts /dev/pts devpts rw,nosuid,noexec");
        assertThat(mounts).containsPattern("(?m)^mqueue /dev/mqueue mqueue rw,nosuid,nodev,noexec");
        assertThat(mounts).containsPattern("(?m) /sys/fs/cgroup[ /].* ro,");
        assertThat(run(inImage(BASE, "write", "/proc/sys/kernel/hostname", "x", "--", "write", "/sys/kernel/x", "x"))
                .stdout()).contains("/proc/sys/kernel/hostname: Read-only file system", "/sys/kernel/x: Read-only file system");
        // the default device nodes work; the host's nodes are bound in, with their numbers
        assertThat(run(inImage(BASE, "stat", "/dev/null", "--", "stat", "/dev/tty")).stdout())
                .isEqualTo("char 666 1:3\nchar 666 5:0\n");
        assertThat(run(inImage(BASE, "read", "/dev/zero", "1", "--", "overwrite", "/dev/null", "x", "--", "overwrite",
                "/dev/full", "x")).stdout()).contains("read /dev/zero: ", "wrote /dev/null: 1",
                "write /dev/full: No space left on device");
        // capabilities are Docker's defaults, in the container's own user namespace
        assertThat(run(inImage(BASE, "status")).stdout()).contains("CapEff:\t00000000a80425fb")
                .contains("CapInh:\t0000000000000000").contains("NoNewPrivs:\t1");
        // the hostname and a read-only root
        assertThat(run(inImage(BASE, "hostname").hostname("mapped-1")).stdout()).isEqualTo("mapped-1\n");
        assertThat(run(inImage(BASE, "write", "/x", "y").readonlyRootfs(true)).stdout()).contains("Read-only file system");
    }

    @Test
    void withTheHostsNetworkSysIsTheHostsBoundReadOnly() throws Exception {
        String out = run(inImage(BASE, "cat", "/proc/self/mounts", "--", "write", "/sys/kernel/x", "x")
                .shareNamespace(Namespace.NETWORK)).stdout();
        assertThat(out).containsPattern("(?m)^sysfs /sys sysfs ro,").contains("/sys/kernel/x: Read-only file system");
    }

    @Test
    void anUnmappedUserIsRefusedBeforeTheStart() {
        UserNamespace small = UserNamespace.of(BASE, 1000);
        assertThatThrownBy(() -> run(probe("id").userNamespace(small).user("1000")))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("user 1000: not mapped by the container's uid map 0:" + BASE + ":1000");
        assertThatThrownBy(() -> run(probe("id").userNamespace(UserNamespace.of(List.of(IdMapping.of(1, BASE, 10)),
                List.of(IdMapping.of(0, BASE, 10)))))).isInstanceOf(ContainerStartException.class)
                .hasMessageContaining("does not map the container's root (uid 0)");
        assertThat(runtime.list()).noneMatch(i -> i.id().startsWith(run));
    }

    /** The first uid_map line of a running container, as container:host:size. */
    private static String uidMapOf(Container c) throws Exception {
        return String.join(":", exec(c, "cat", "/proc/self/uid_map").trim().split("\\s+"));
    }

    @Test
    void autoGivesEachContainerARangeOfItsOwnFromTheContainersUsersSubordinateIds() throws Exception {
        long auto = OTHER + 65536L * 2;
        Path subuid = Files.writeString(tmp.resolve(run + "-subuid"), "alice:1:99\ncontainers:" + auto + ":140000\n");
        Path subgid = Files.writeString(tmp.resolve(run + "-subgid"), "containers:" + auto + ":140000\n");
        try (ContainerRuntime rt = ContainerRuntime.builder().stateRoot(tmp.resolve(run + "-state"))
                .storageRoot(tmp.resolve(run + "-storage")).subordinateIds(subuid, subgid).build();
                Container a = rt.start(run + "-a", probe("sleep", "30").userNamespace(UserNamespace.auto()).build());
                Container b = rt.start(run + "-b", probe("sleep", "30").userNamespace(UserNamespace.auto()).build())) {
            // podman's size: the root's highest id plus one (its passwd names nobody, 65534); first fit, no overlap
            assertThat(List.of(uidMapOf(a), uidMapOf(b)))
                    .containsExactlyInAnyOrder("0:" + auto + ":65535", "0:" + (auto + 65535) + ":65535");
            // the range each got, not "auto", is what its state records for list() (and berth inspect)
            for (Container c : List.of(a, b)) {
                UserNamespace recorded = rt.list().stream().filter(i -> i.id().equals(c.id())).findFirst().orElseThrow()
                        .userNamespace().orElseThrow();
                assertThat(recorded.mode()).isEqualTo(UserNamespace.Mode.MAPPED);
                assertThat(recorded.uidMap()).extracting(IdMapping::toString).containsExactly(uidMapOf(c));
                assertThat(recorded.gidMap()).extracting(IdMapping::toString).containsExactly(uidMapOf(c));
            }
            assertThat(exec(a, "id")).isEqualTo("uid=0 gid=0 euid=0 egid=0\n");
            // 8930 ids are left: a container that asks for more is refused, naming the file and the owner
            assertThatThrownBy(() -> rt.start(run + "-c", probe("id").userNamespace(UserNamespace.auto(10000)).build()))
                    .isInstanceOf(ContainerStartException.class)
                    .hasMessageStartingWith("userns auto: no free range of 10000 ids in "
                            + subuid + " for \"containers\"");
            assertThat(rt.list()).extracting(ContainerInfo::id).doesNotContain(run + "-c");
            String first = uidMapOf(a);
            a.kill();
            a.waitFor();
            a.close(); // its range goes with it: the next container gets it
            try (Container c = rt.start(run + "-c", probe("sleep", "30").userNamespace(UserNamespace.auto()).build())) {
                assertThat(uidMapOf(c)).isEqualTo(first);
            }
        }
    }

    @Test
    void anExecAsAnUnmappedUserIsRefused() throws Exception {
        try (Container c = runtime.start(run + "-x", probe("sleep", "30")
                .userNamespace(UserNamespace.of(BASE, 1000)).build())) {
            assertThatThrownBy(() -> c.exec(ExecSpec.builder().command("/bin/probe", "id").user("5000").build()))
                    .isInstanceOf(ContainerStartException.class)
                    .hasMessageContaining("user 5000: not mapped by the container's uid map 0:" + BASE + ":1000");
            assertThat(exec(c, "id")).isEqualTo("uid=0 gid=0 euid=0 egid=0\n");
            c.kill();
        }
    }

    @Test
    void aUserWithinTheMapRunsAsItsMappedId() throws Exception {
        try (Container c = runtime.start(run + "-u", inImage(BASE, "id", "--", "write", "/tmp/by-1000", "x")
                .user("1000:1000").build())) {
            assertThat(read(c.stdout())).isEqualTo("uid=1000 gid=1000 euid=1000 egid=1000\n");
            c.waitFor();
            assertThat(uidOf(tmp.resolve("storage/containers/" + run + "-u/upper/tmp/by-1000"))).isEqualTo(BASE + 1000);
        }
    }

    /** The embedding JVM killed with SIGKILL: no process of the container and no mount of its root stays behind. */
    @Test
    void aJvmKilledByKill9LeavesNoProcessNorMount() throws Exception {
        String before = Files.readString(Path.of("/proc/self/mountinfo"));
        String java = ProcessHandle.current().info().command().orElse("java");
        Path dir = Files.createDirectories(tmp.resolve("crash-" + run));
        Process jvm = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                dev.berth.core.testing.EmbedderMain.class.getName(), dir.resolve("state").toString(),
                dir.resolve("storage").toString(), TestRootfs.path().toString(), Long.toString(BASE))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<Long> processes = new ArrayList<>();
        String id;
        try {
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(jvm.getInputStream(),
                    StandardCharsets.UTF_8)).readLine();
            assertThat(line).as("the child JVM started its container").startsWith("id ");
            id = line.split(" ")[1];
            long init = Long.parseLong(line.split(" ")[3]);
            assertThat(Files.readString(Path.of("/proc/" + init + "/uid_map")).trim().split("\\s+"))
                    .containsExactly("0", Long.toString(BASE), "65536");
            processes.add(init);
            for (String c : Files.readString(Path.of("/proc/" + init + "/task/" + init + "/children")).trim().split(" ")) {
                if (!c.isEmpty()) {
                    processes.add(Long.parseLong(c));
                }
            }
            ProcessHandle.of(init).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).ifPresent(processes::add);
        } finally {
            jvm.destroyForcibly();
        }
        assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).isTrue();
        for (long p : processes) {
            ProcessHandle.of(p).ifPresent(h -> h.onExit().orTimeout(30, TimeUnit.SECONDS).join());
            assertThat(ProcessHandle.of(p).filter(ProcessHandle::isAlive)).as("pid %d after the JVM's death", p).isEmpty();
        }
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).as("the host's mounts").isEqualTo(before);
        try (ContainerRuntime next = ContainerRuntime.builder().stateRoot(dir.resolve("state"))
                .storageRoot(dir.resolve("storage")).reconcile(false).build()) {
            assertThat(next.reconcile().removed()).containsExactly(id);
        }
    }

    /**
     * A detached container keeps its user namespace in its stored spec: another runtime on the same roots (another
     * berth process) reads it back and execs into it as the container's root.
     */
    @Test
    void aDetachedContainerKeepsItsUserNamespaceForOtherRuntimes() throws Exception {
        String id = run + "-d";
        try (Container c = runtime.start(id, ContainerSpec.builder().image("it/userns:1").command("/bin/probe", "sleep",
                "60").userNamespace(mapped(BASE)).detached(true).build())) {
            String stateJson = Files.readString(stateRoot.resolve(id).resolve("state.json"));
            assertThat(stateJson).contains("\"userNamespace\":{\"mode\":\"mapped\",\"uidMap\":[\"0:" + BASE + ":65536\"]");
            try (ContainerRuntime other = ContainerRuntime.builder().stateRoot(stateRoot)
                    .storageRoot(tmp.resolve("storage")).reconcile(false).build()) {
                Container adopted = other.container(id).orElseThrow();
                assertThat(exec(adopted, "id", "--", "owner", "/data/root-file")).isEqualTo("uid=0 gid=0 euid=0 egid=0\n0:0\n");
                adopted.kill();
                adopted.waitFor(java.time.Duration.ofSeconds(30));
                adopted.close();
            }
        } finally {
            if (runtime.list().stream().anyMatch(i -> i.id().equals(id))) {
                runtime.remove(id, true);
            }
        }
    }

    /** A restart reuses the writable layer (already the mapped root's) and makes the idmapped root again. */
    @Test
    void aRestartRunsInTheUserNamespaceAgain() throws Exception {
        String id = run + "-r";
        try (Container c = runtime.start(id, inImage(BASE, "stat", "/mark",
                "--", "write", "/mark", "x", "--", "exit", "3").stdout(Stdio.discard()).restart(RestartPolicy.onFailure(1))
                .build())) {
            assertThat(c.onExit().get(60, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(3));
            assertThat(c.restartCount()).isEqualTo(1);
            assertThat(uidOf(tmp.resolve("storage/containers/" + id + "/upper/mark"))).isEqualTo(BASE);
        }
    }

    /** A start that fails after the clone (its target missing) leaves no fd, mount or container directory. */
    @Test
    void aFailedStartLeavesNothingBehind() throws Exception {
        run(inImage(BASE, "id")); // warm: the runtime's own lazily opened fds
        java.util.Set<String> fds = openFds();
        String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
        String id = run + "-f";
        assertThatThrownBy(() -> runtime.start(id, inImage(BASE).command("/nope").build()))
                .isInstanceOf(ContainerStartException.class).hasMessageContaining("exec(/nope): No such file or directory");
        assertThat(openFds()).isEqualTo(fds);
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).isEqualTo(mounts);
        assertThat(tmp.resolve("storage/containers/" + id)).doesNotExist();
        assertThat(runtime.list()).noneMatch(i -> i.id().equals(id));
    }

    /** An exec health check runs in the container's user namespace: the image's file shows as its root's. */
    @Test
    void anExecHealthCheckRunsInTheUserNamespace() throws Exception {
        HealthCheck check = HealthCheck.builder().command("/bin/probe", "owner", "/data/root-file")
                .interval(java.time.Duration.ofMillis(200)).timeout(java.time.Duration.ofSeconds(10)).build();
        try (Container c = runtime.start(run + "-h", inImage(BASE, "sleep", "30").stdout(Stdio.discard())
                .healthCheck(check).build())) {
            c.onHealthy().get(30, TimeUnit.SECONDS);
            assertThat(c.health().orElseThrow().log()).last().extracting(HealthResult::output).isEqualTo("0:0\n");
            c.kill();
        }
    }

    /** A container's own terminal in a user namespace: its devpts, the pty owned by the target's (mapped) user. */
    @Test
    void aTerminalWorksInTheUserNamespace() throws Exception {
        assertThat(run(ttyInImage("tty", "--", "owner", "/dev/pts/0")).stdout()).isEqualTo("/dev/pts/0\r\n0:5\r\n");
        assertThat(run(ttyInImage("owner", "/dev/pts/0").user("1000:1000")).stdout()).isEqualTo("1000:5\r\n");
    }

    private static ContainerSpec.Builder ttyInImage(String... args) {
        List<String> argv = new ArrayList<>(List.of("/bin/probe"));
        argv.addAll(List.of(args));
        return ContainerSpec.builder().image("it/userns:1").command(argv).userNamespace(mapped(BASE)).tty(true);
    }
}
