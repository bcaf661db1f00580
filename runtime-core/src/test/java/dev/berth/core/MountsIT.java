package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.HostCommand;
import dev.berth.core.testing.TestRootfs;
import dev.berth.image.ImportProgress;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bind mounts, tmpfs mounts and named volumes on the real kernel: what the container sees, what
 * the host sees, and that neither a hostile image nor a swapped symlink sends a mount outside the
 * container's root. After every test nothing of a container is mounted on the host.
 */
@RequiresRoot
class MountsIT extends ContainerTestSupport {
    private final Syscalls sys = new LinuxSyscalls();
    private Set<String> hostMountsBefore;
    private Set<String> fdsBefore;

    /** Mount table lines that name this test's directories or the test root: where a leaked mount would show. */
    private static Set<String> ourHostMounts() throws IOException {
        Set<String> out = new TreeSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            if (line.contains(tmp.toString()) || line.contains(TestRootfs.path().toString())) {
                out.add(line.replaceFirst("^\\d+ \\d+ ", "")); // ids aside
            }
        }
        return out;
    }

    private static Set<String> steadyFds() throws IOException {
        Set<String> out = new TreeSet<>();
        for (String fd : openFds()) {
            String target = fd.substring(fd.indexOf(' ') + 1);
            // aside: jars (class loading), /proc, pipes (host commands' Process streams until collected);
            // detached trees show as their source's path, volume locks as theirs
            if (!target.endsWith(".jar") && !target.startsWith("/proc/") && !target.startsWith("pipe:")) {
                out.add(fd);
            }
        }
        return out;
    }

    /** The test root, copied: mount points made in a directory root stay in it. */
    private static ContainerSpec.Builder own(String... args) throws IOException, InterruptedException {
        Path root = tmp.resolve("root");
        if (!Files.exists(root)) {
            HostCommand.run("cp", "-a", TestRootfs.path().toString(), root.toString());
        }
        return probe(args).rootfs(root);
    }

    /**
     * The call that places a bind mount, as errors name it: a detached tree moved into place as root; rootless,
     * the init binds the source itself (its re-run overrides this).
     */
    protected String bindCall() {
        return "move_mount";
    }

    @BeforeEach
    void snapshot() throws Exception {
        output("echo", "warm"); // runtime and JNA warmed up before the fd baseline
        runtime.images(); // the image store (its lock file) stays open once used
        hostMountsBefore = ourHostMounts();
        fdsBefore = steadyFds();
    }

    @AfterEach
    void nothingOfAContainerIsMountedOnTheHost() throws Exception {
        assertThat(ourHostMounts()).isEqualTo(hostMountsBefore);
        assertThat(steadyFds()).as("the JVM's fds").isEqualTo(fdsBefore);
    }

    private static Path dir(String name) throws IOException {
        Path d = tmp.resolve(name);
        Files.createDirectories(d);
        return d;
    }

    @Test
    void aReadWriteBindIsSharedWithTheHost() throws Exception {
        Path src = dir("rw");
        Files.writeString(src.resolve("in"), "from the host\n");
        Result r = run(own("cat", "/data/in", "--", "write", "/data/out", "from the container", "--",
                "statvfs", "/data").mount(Mount.bind(src, "/data")));
        assertThat(r.stdout()).startsWith("from the host").contains("\nrw");
        assertThat(Files.readString(src.resolve("out"))).isEqualTo("from the container");
    }

    @Test
    void aReadOnlyBindIsReadOnlyWithItsSubmountsUnlessNotRecursive() throws Exception {
        Path src = dir("ro");
        Files.createDirectories(src.resolve("sub"));
        HostCommand.run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", src.resolve("sub").toString());
        try {
            Files.writeString(src.resolve("sub/there"), "on the submount\n");
            String out = run(own("write", "/data/x", "1", "--", "write", "/data/sub/x", "1", "--", "cat", "/data/sub/there")
                    .mount(Mount.bind(src, "/data", "ro"))).stdout();
            assertThat(out.lines()).containsExactly("/data/x: Read-only file system", "/data/sub/x: Read-only file system",
                    "on the submount");
            // "bind": the submount is not part of it, the mount point below is
            String flat = run(own("stat", "/data/sub/there", "--", "write", "/data/x", "1")
                    .mount(Mount.bind(src, "/data", "ro", "bind"))).stdout();
            assertThat(flat.lines()).containsExactly("/data/sub/there: No such file or directory",
                    "/data/x: Read-only file system");
            assertThat(Files.exists(src.resolve("x"))).isFalse();
        } finally {
            HostCommand.run("umount", src.resolve("sub").toString());
        }
    }

    @Test
    void nosuidAndNoexecHold() throws Exception {
        Path src = dir("flags");
        Files.copy(TestRootfs.path().resolve("bin/probe"), src.resolve("suid-probe"));
        HostCommand.run("chmod", "4755", src.resolve("suid-probe").toString());
        String plain = run(own("exec", "/data/suid-probe", "id").user("alice").noNewPrivileges(false).mount(Mount.bind(src, "/data"))).stdout();
        assertThat(plain).as("the setuid bit works without nosuid").contains("euid=0");
        String nosuid = run(own("exec", "/data/suid-probe", "id").user("alice").noNewPrivileges(false)
                .mount(Mount.bind(src, "/data", "nosuid"))).stdout();
        assertThat(nosuid).isEqualTo("uid=1000 gid=1000 euid=1000 egid=1000\n");
        String noexec = run(own("statvfs", "/data", "--", "exec", "/data/suid-probe", "id")
                .mount(Mount.bind(src, "/data", "noexec", "nodev"))).stdout();
        assertThat(noexec.lines()).containsExactly(noexec.lines().findFirst().orElseThrow(),
                "exec /data/suid-probe: Permission denied");
        assertThat(noexec.lines().findFirst().orElseThrow()).startsWith("rw nodev noexec");
    }

    @Test
    void tmpfsHasItsSizeModeAndSafeDefaults() throws Exception {
        String out = run(own("statvfs", "/scratch", "--", "stat", "/scratch", "--", "statvfs", "/run/a/b", "--",
                "stat", "/run/a/b", "--", "write", "/scratch/f", "x", "--", "cat", "/scratch/f")
                .mount(Mount.tmpfs("/scratch", "size=1m", "mode=0700"))
                .mount(Mount.tmpfs("/run/a/b", "exec"))).stdout();
        assertThat(out.lines()).containsExactly("rw nosuid nodev noexec size=1048576", "dir 700 0:0",
                out.lines().toList().get(2), "dir 1777 0:0", "x");
        assertThat(out.lines().toList().get(2)).startsWith("rw nosuid nodev size=");
    }

    @Test
    void aFileBindMakesItsMountPoint() throws Exception {
        Path f = dir("file").resolve("motd");
        Files.writeString(f, "file bound\n");
        String out = run(own("cat", "/etc/berth/motd", "--", "overwrite", "/etc/berth/motd", "FILE")
                .mount(Mount.bind(f, "/etc/berth/motd"))).stdout();
        assertThat(out).startsWith("file bound").endsWith("wrote /etc/berth/motd: 4\n");
        assertThat(Files.readString(f)).isEqualTo("FILE bound\n");
        assertThat(Files.size(tmp.resolve("root/etc/berth/motd"))).as("an empty mount point in the root").isZero();
    }

    @Test
    void aNewVolumeIsFilledFromTheImageAndKeptAcrossContainers() throws Exception {
        Path layout = HostCommand.umociImage(tmp.resolve("vol-image"), root -> {
            Path data = Files.createDirectories(root.resolve("data"));
            Files.writeString(data.resolve("seed"), "from the image\n");
            Files.createDirectories(data.resolve("nested"));
            Files.createSymbolicLink(data.resolve("nested/passwd"), Path.of("/etc/passwd"));
            Files.createLink(data.resolve("seed-link"), data.resolve("seed"));
            HostCommand.run("chown", "-R", "1000:50", data.toString());
            HostCommand.run("chmod", "0750", data.toString());
            Files.writeString(data.resolve("tool"), "a file with a capability\n");
            HostCommand.run("setcap", "cap_net_raw+ep", data.resolve("tool").toString()); // after the chown, which drops it
            java.nio.file.attribute.UserDefinedFileAttributeView view = Files.getFileAttributeView(data.resolve("seed"),
                    java.nio.file.attribute.UserDefinedFileAttributeView.class);
            view.write("origin", java.nio.ByteBuffer.wrap("image".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        });
        runtime.images().importImage(layout, Optional.of("it/volume:t"), ImportProgress.NONE);
        ContainerSpec.Builder first = probe("cat", "/data/seed", "--", "write", "/data/made", "by the first\n", "--",
                "stat", "/data").rootfs(null).image("it/volume:t").mount(Mount.volume("it-data", "/data"));
        String out = run(first).stdout();
        assertThat(out.lines()).containsExactly("from the image", "dir 750 0:0");
        Volume v = runtime.volumes().inspect("it-data").orElseThrow();
        assertThat(Files.readString(v.mountpoint().resolve("made"))).isEqualTo("by the first\n");
        assertThat(Files.readSymbolicLink(v.mountpoint().resolve("nested/passwd"))).isEqualTo(Path.of("/etc/passwd"));
        assertThat(Files.getAttribute(v.mountpoint(), "unix:uid")).isEqualTo(1000);
        // as docker's copy: hard links stay links, extended attributes (a file capability, user.*) stay
        assertThat(Files.isSameFile(v.mountpoint().resolve("seed"), v.mountpoint().resolve("seed-link"))).isTrue();
        assertThat(HostCommand.run("getcap", v.mountpoint().resolve("tool").toString())).contains("cap_net_raw=ep");
        java.nio.file.attribute.UserDefinedFileAttributeView view = Files.getFileAttributeView(v.mountpoint().resolve("seed"),
                java.nio.file.attribute.UserDefinedFileAttributeView.class);
        java.nio.ByteBuffer origin = java.nio.ByteBuffer.allocate(16);
        view.read("origin", origin);
        assertThat(new String(origin.array(), 0, origin.position(), java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("image");
        // the second container sees what the first left, not the image again
        Files.delete(v.mountpoint().resolve("seed"));
        String second = run(own("cat", "/data/made", "--", "stat", "/data/seed").rootfs(null).image("it/volume:t")
                .mount(Mount.volume("it-data", "/data"))).stdout();
        assertThat(second.lines()).containsExactly("by the first", "/data/seed: No such file or directory");
        // nocopy: a new volume stays empty
        String nocopy = run(own("stat", "/data/seed").rootfs(null).image("it/volume:t")
                .mount(Mount.volume("it-empty", "/data", "nocopy"))).stdout();
        assertThat(nocopy).isEqualTo("/data/seed: No such file or directory\n");
        // with a terminal: the start stops at the sync point to fill the volume, then the pty master comes
        String onTty = run(ContainerSpec.builder().image("it/volume:t").tty(true)
                .command("/bin/probe", "cat", "/data/seed", "--", "tty").mount(Mount.volume("it-tty", "/data"))).stdout();
        assertThat(onTty.lines()).containsExactly("from the image", "/dev/pts/0");
        assertThat(runtime.volumes().remove("it-tty")).isTrue();
        assertThat(runtime.volumes().list()).extracting(Volume::name).contains("it-data", "it-empty");
        assertThat(runtime.volumes().remove("it-data")).isTrue();
        assertThat(runtime.volumes().remove("it-empty")).isTrue();
        assertThat(runtime.volumes().inspect("it-data")).isEmpty();
        assertThat(runtime.volumes().remove("it-data")).isFalse();
    }

    @Test
    void aVolumeInUseCannotBeRemovedByThisOrAnotherRuntime() throws Exception {
        runtime.volumes().create("it-busy");
        try (Container c = runtime.start(own("stdin").stdin(Stdio.pipe()).mount(Mount.volume("it-busy", "/v")).build())) {
            assertThatThrownBy(() -> runtime.volumes().remove("it-busy")).isInstanceOf(IllegalStateException.class)
                    .hasMessage("volume it-busy: in use by a container");
            try (ContainerRuntime other = ContainerRuntime.builder().stateRoot(tmp.resolve("other-state"))
                    .storageRoot(runtime.storageRoot()).build()) {
                assertThatThrownBy(() -> other.volumes().remove("it-busy")).hasMessageContaining("in use");
            }
            c.stdin().close();
            assertThat(c.onExit().get(30, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            assertThatThrownBy(() -> runtime.volumes().remove("it-busy")).as("until the container is closed")
                    .hasMessageContaining("in use");
        }
        assertThat(runtime.volumes().remove("it-busy")).isTrue();
    }

    /** A root whose /data is a symlink to /etc, /up one to "../../..", /up2 one to "../../../etc". */
    private static Path hostileRoot() throws Exception {
        Path root = tmp.resolve("hostile");
        if (!Files.exists(root)) {
            HostCommand.run("cp", "-a", TestRootfs.path().toString(), root.toString());
            Files.createSymbolicLink(root.resolve("data"), Path.of("/etc"));
            Files.createSymbolicLink(root.resolve("up"), Path.of("../../.."));
            Files.createSymbolicLink(root.resolve("up2"), Path.of("../../../etc"));
        }
        return root;
    }

    @Test
    void aSymlinkedDestinationInTheImageLandsInsideTheRoot() throws Exception {
        Path root = hostileRoot();
        Path src = dir("hostile-src");
        Files.writeString(src.resolve("berth-marker"), "inside\n");
        String hostEtc = listing(Path.of("/etc"));
        String out = run(own("cat", "/etc/berth-marker", "--", "stat", "/etc/passwd").rootfs(root)
                .mount(Mount.bind(src, "/data"))).stdout();
        assertThat(out.lines()).containsExactly("inside", "/etc/passwd: No such file or directory");
        String out2 = run(own("cat", "/etc/berth-marker").rootfs(root).mount(Mount.bind(src, "/up2"))).stdout();
        assertThat(out2).isEqualTo("inside\n");
        String tmpfs = run(own("statvfs", "/etc").rootfs(root).mount(Mount.tmpfs("/up2", "size=2m"))).stdout();
        assertThat(tmpfs).startsWith("rw nosuid nodev noexec size=2097152");
        assertThat(Files.exists(Path.of("/etc/berth-marker"))).isFalse();
        assertThat(listing(Path.of("/etc"))).isEqualTo(hostEtc);
        assertThat(Files.exists(root.resolve("etc/passwd"))).as("the image's own /etc, under the mount").isTrue();
        // a symlink to the root itself: refused, not mounted over the root
        assertThatThrownBy(() -> run(own("echo").rootfs(root).mount(Mount.bind(src, "/up"))))
                .isInstanceOf(ContainerStartException.class).hasMessage(bindCall() + "(/up): Device or resource busy");
        assertThatThrownBy(() -> run(own("echo").rootfs(root).mount(Mount.tmpfs("/up"))))
                .isInstanceOf(ContainerStartException.class).hasMessage("mount(/up): Device or resource busy");
    }

    @Test
    void noMountLandsOnTheContainersProcThroughASymlinkOfTheImage() throws Exception {
        Path root = tmp.resolve("hostile-proc");
        if (!Files.exists(root)) {
            HostCommand.run("cp", "-a", TestRootfs.path().toString(), root.toString());
            Files.createSymbolicLink(root.resolve("pdata"), Path.of("/proc"));
            Files.createSymbolicLink(root.resolve("psys"), Path.of("../proc/sys"));
        }
        Path src = dir("proc-src");
        String refused = " (a mount target that resolves onto /proc is refused; is it a symlink into /proc in the image?)";
        assertThatThrownBy(() -> run(own("echo").rootfs(root).mount(Mount.bind(src, "/pdata"))))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage(bindCall() + "(/pdata): Operation not permitted" + refused);
        assertThatThrownBy(() -> run(own("echo").rootfs(root).mount(Mount.tmpfs("/psys"))))
                .isInstanceOf(ContainerStartException.class).hasMessage("mount(/psys): Operation not permitted" + refused);
        // one of lxcfs's files, named as such: mounted over the container's procfs file
        Path meminfo = Files.writeString(src.resolve("meminfo"), "MemTotal: 262144 kB\n");
        assertThat(run(own("cat", "/proc/meminfo").rootfs(root).mount(Mount.bind(meminfo, "/proc/meminfo"))).stdout())
                .isEqualTo("MemTotal: 262144 kB\n");
        // a generated /etc file through the image's symlink into /proc: refused too
        Path etcRoot = tmp.resolve("hostile-etc-proc");
        if (!Files.exists(etcRoot)) {
            HostCommand.run("cp", "-a", TestRootfs.path().toString(), etcRoot.toString());
            Files.deleteIfExists(etcRoot.resolve("etc/hostname"));
            Files.createDirectories(etcRoot.resolve("etc"));
            Files.createSymbolicLink(etcRoot.resolve("etc/hostname"), Path.of("/proc/sys/kernel/hostname"));
        }
        assertThatThrownBy(() -> run(own("echo").rootfs(etcRoot)))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("mount(/etc/hostname): Operation not permitted" + refused);
    }

    private static String listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return String.join("\n", s.map(Path::toString).sorted().toList());
        }
    }

    @Test
    void aSourceSymlinkSwappedAfterItWasOpenedRedirectsNothing() throws Exception {
        Path good = dir("swap-good");
        Path evil = dir("swap-evil");
        Files.writeString(good.resolve("which"), "good\n");
        Files.writeString(evil.resolve("which"), "evil\n");
        Path link = tmp.resolve("swap-link");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, good);
        // stdin is a FIFO: the start opens the mount's source, then blocks opening stdin until a writer comes
        Path fifo = tmp.resolve("swap-fifo");
        Files.deleteIfExists(fifo);
        HostCommand.run("mkfifo", fifo.toString());
        CompletableFuture<Result> started = CompletableFuture.supplyAsync(() -> {
            try {
                return run(own("cat", "/data/which").stdin(Stdio.file(fifo)).mount(Mount.bind(link, "/data")));
            } catch (ContainerException | IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        int writer = -1;
        for (int i = 0; i < 500 && writer < 0; i++) {
            try {
                writer = sys.open(fifo.toString(), Syscalls.O_WRONLY | Syscalls.O_NONBLOCK | Syscalls.O_CLOEXEC, 0);
            } catch (SyscallException e) {
                Thread.sleep(10); // ENXIO: the start has not reached stdin yet
            }
        }
        assertThat(writer).as("the start blocked on its stdin").isNotNegative();
        Files.delete(link);
        Files.createSymbolicLink(link, evil); // swapped between the open and the mount
        sys.close(writer);
        assertThat(started.get(60, TimeUnit.SECONDS).stdout()).isEqualTo("good\n");
        assertThat(run(own("cat", "/data/which").mount(Mount.bind(link, "/data"))).stdout()).isEqualTo("evil\n");
    }

    @Test
    void berthsOwnStorageAndStateAreRefusedAsSources() throws Exception {
        Files.createDirectories(runtime.storageRoot());
        for (Path p : List.of(runtime.storageRoot(), stateRoot, runtime.storageRoot().resolve("containers"))) {
            Files.createDirectories(p);
            assertThatThrownBy(() -> run(own("echo").mount(Mount.bind(p, "/data"))))
                    .isInstanceOf(ContainerStartException.class)
                    .hasMessageStartingWith("mounts[0].source: " + p + " is inside Berth's own");
        }
        Path link = tmp.resolve("link-to-store");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, runtime.storageRoot());
        assertThatThrownBy(() -> run(own("echo").mount(Mount.bind(link, "/data"))))
                .hasMessageContaining("is inside Berth's own storage root");
        assertThatThrownBy(() -> run(own("echo").mount(Mount.bind(tmp.resolve("missing"), "/data"))))
                .isInstanceOf(ContainerStartException.class)
                .hasMessageStartingWith("open_tree(" + tmp.resolve("missing") + "): No such file or directory");
        assertThat(runtime.containers()).isEmpty();
        try (Stream<Path> s = Files.list(stateRoot)) {
            assertThat(s.toList()).isEmpty();
        }
    }

    @Test
    void aFailedStartRemovesTheVolumeItCreatedAndLeavesNoFd() throws Exception {
        assertThatThrownBy(() -> run(own("echo").workingDir("/nowhere").mount(Mount.volume("it-failed", "/v"))))
                .hasMessage("chdir(/nowhere): No such file or directory");
        assertThat(runtime.volumes().inspect("it-failed")).isEmpty();
        assertThat(Files.exists(runtime.volumes().root().resolve("it-failed"))).isFalse();
        String s = new String(Files.readAllBytes(Path.of("/proc/self/mountinfo")), StandardCharsets.UTF_8);
        assertThat(s).doesNotContain("it-failed");
    }
}
