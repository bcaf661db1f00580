package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.testing.RootlessIds;
import dev.berth.core.testing.TestRootfs;
import dev.berth.image.ImportProgress;
import dev.berth.linux.internal.ProcStatus;
import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRootless;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link MountsIT} run by an ordinary user (.ci/rootless-suite.sh): bind mounts, tmpfs mounts and
 * named volumes of a rootless container, whose root is the user. Where rootless differs, the
 * expectation says how, matching rootless podman: what the container's root makes on a bind is the
 * user's on the host, what its other users make is the user's subordinate ids'; a read-only bind
 * cannot be made writable from inside; what the user cannot read on the host stays unreadable; the
 * user cannot mount on the host, so the submounts of a read-only bind are the host's own (/dev's).
 */
@RequiresRootless
class MountsRootlessIT extends MountsIT {
    private static RootlessIds ids;

    @BeforeAll
    static void ids() {
        ids = RootlessIds.require();
    }

    @Override
    protected String bindCall() {
        return "mount";
    }

    private static long owner(Path p) throws IOException {
        return ((Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue();
    }

    private static long group(Path p) throws IOException {
        return ((Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS)).longValue();
    }

    private static ContainerSpec.Builder copied(String... args) throws IOException, InterruptedException {
        Path root = tmp.resolve("root");
        if (!Files.exists(root)) {
            dev.berth.core.testing.HostCommand.run("cp", "-a", TestRootfs.path().toString(), root.toString());
        }
        return probe(args).rootfs(root);
    }

    /**
     * The user cannot mount a tmpfs below the source on the host; /dev has submounts of the host's own
     * (/dev/shm: a tmpfs of mode 1777 the user may write): bound "ro" they are read-only too, bound "ro,bind"
     * (not recursive) they are not part of the mount. Nothing of it can be made writable again from inside.
     */
    @Override
    @Test
    void aReadOnlyBindIsReadOnlyWithItsSubmountsUnlessNotRecursive() throws Exception {
        Preconditions.requireUnprivileged();
        String name = "berth-mounts-" + Long.toHexString(System.nanoTime());
        Path there = Path.of("/dev/shm", name);
        try {
            Files.writeString(there, "on the submount\n");
            String out = run(copied("write", "/data/x", "1", "--", "write", "/data/shm/x-" + name, "1", "--",
                    "cat", "/data/shm/" + name, "--", "remount-rw", "/data", "--", "remount-rw", "/data/shm", "--",
                    "write", "/data/shm/x-" + name, "1").mount(Mount.bind(Path.of("/dev"), "/data", "ro"))).stdout();
            assertThat(out.lines()).containsExactly("/data/x: Read-only file system",
                    "/data/shm/x-" + name + ": Read-only file system", "on the submount",
                    "remount: Operation not permitted", "remount: Operation not permitted",
                    "/data/shm/x-" + name + ": Read-only file system");
            // not recursive: the kernel refuses to bind a tree without the host's mounts in it (they are locked to
            // the user namespace's mount namespace: a bind without them would uncover what they hide), as for podman
            assertThatThrownBy(() -> run(copied("true").mount(Mount.bind(Path.of("/dev"), "/data", "ro", "bind"))))
                    .isInstanceOf(ContainerStartException.class).hasMessage("mount(/data): Invalid argument");
            Path plain = Files.createDirectories(tmp.resolve("flat-ro"));
            String flat = run(copied("write", "/data/x", "1", "--", "remount-rw", "/data", "--", "write", "/data/x", "1")
                    .mount(Mount.bind(plain, "/data", "ro", "bind"))).stdout();
            assertThat(flat.lines()).containsExactly("/data/x: Read-only file system", "remount: Operation not permitted",
                    "/data/x: Read-only file system");
            assertThat(plain.resolve("x")).doesNotExist();
            assertThat(Path.of("/dev/shm/x-" + name)).doesNotExist();
            // given CAP_SYS_ADMIN, the container's root may (as under rootless podman): the mount is its own, made in
            // its user namespace, and what it then writes is the user's, whose rights it has anyway
            String admin = run(copied("remount-rw", "/data", "--", "write", "/data/x", "1").addCapabilities(
                    Capability.SYS_ADMIN).mount(Mount.bind(plain, "/data", "ro", "bind"))).stdout();
            assertThat(admin).isEqualTo("remount: ok 0\n");
            assertThat(owner(plain.resolve("x"))).isEqualTo(ids.uid());
        } finally {
            Files.deleteIfExists(there);
        }
    }

    /**
     * A named volume lives under the user's storage root and is the user's; an image directory of the container's
     * root (the user's files) fills it as with root, and it is kept across containers. An image directory holding
     * files of the image's other users cannot be copied by the user (it can neither read what they keep to
     * themselves nor give a copy their owner): the start fails in one line naming the file, and the volume it made
     * is gone. (Rootless podman copies them inside its user namespace; Berth's copy runs in the JVM.)
     */
    @Override
    @Test
    void aNewVolumeIsFilledFromTheImageAndKeptAcrossContainers() throws Exception {
        Preconditions.requireUnprivileged();
        if (runtime.images().find("it/volume:t").isEmpty()) {
            Path layout = ContainerRootlessIT.layout(tmp.resolve("vol-image"), tar -> {
                TarArchiveEntry d = new TarArchiveEntry("data/");
                d.setMode(0750);
                tar.putArchiveEntry(d);
                tar.closeArchiveEntry();
                ContainerRootlessIT.file(tar, "data/seed", 0640, "from the image\n", 0, 0);
                TarArchiveEntry hard = new TarArchiveEntry("data/seed-link", TarArchiveEntry.LF_LINK);
                hard.setLinkName("data/seed");
                tar.putArchiveEntry(hard);
                tar.closeArchiveEntry();
                TarArchiveEntry n = new TarArchiveEntry("data/nested/");
                n.setMode(0755);
                tar.putArchiveEntry(n);
                tar.closeArchiveEntry();
                TarArchiveEntry l = new TarArchiveEntry("data/nested/passwd", TarArchiveEntry.LF_SYMLINK);
                l.setLinkName("/etc/passwd");
                tar.putArchiveEntry(l);
                tar.closeArchiveEntry();
                TarArchiveEntry o = new TarArchiveEntry("others/");
                o.setMode(0755);
                tar.putArchiveEntry(o);
                tar.closeArchiveEntry();
                ContainerRootlessIT.file(tar, "others/mine", 0644, "root's\n", 0, 0);
                ContainerRootlessIT.file(tar, "others/seed", 0640, "alice's\n", 1000, 50);
            });
            runtime.images().importImage(layout, Optional.of("it/volume:t"), ImportProgress.NONE);
        }
        ContainerSpec.Builder first = probe("cat", "/data/seed", "--", "owner", "/data", "--", "stat", "/data", "--",
                "read", "/data/nested/passwd", "5", "--", "write", "/data/made", "by the first\n").rootfs(null)
                .image("it/volume:t").entrypoint(List.of()).mount(Mount.volume("it-data", "/data"));
        String out = run(first).stdout();
        assertThat(out.lines()).containsExactly("from the image", "0:0", "dir 750 0:0",
                "read /data/nested/passwd: root:");
        Volume v = runtime.volumes().inspect("it-data").orElseThrow();
        assertThat(v.mountpoint()).startsWith(runtime.storageRoot());
        assertThat(owner(v.mountpoint())).isEqualTo(ids.uid());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(v.mountpoint()))).isEqualTo("rwxr-x---");
        assertThat(v.mountpoint().resolve("made")).hasContent("by the first\n");
        assertThat(owner(v.mountpoint().resolve("made"))).isEqualTo(ids.uid());
        assertThat(Files.isSameFile(v.mountpoint().resolve("seed"), v.mountpoint().resolve("seed-link"))).isTrue();
        assertThat(Files.readSymbolicLink(v.mountpoint().resolve("nested/passwd"))).isEqualTo(Path.of("/etc/passwd"));
        // the second container sees what the first left, not the image again
        Files.delete(v.mountpoint().resolve("seed"));
        String second = run(probe("cat", "/data/made", "--", "stat", "/data/seed").rootfs(null).image("it/volume:t")
                .entrypoint(List.of()).mount(Mount.volume("it-data", "/data"))).stdout();
        assertThat(second.lines()).containsExactly("by the first", "/data/seed: No such file or directory");
        String nocopy = run(probe("stat", "/others/seed", "--", "owner", "/others/seed").rootfs(null)
                .image("it/volume:t").entrypoint(List.of()).mount(Mount.volume("it-empty", "/data", "nocopy"))).stdout();
        assertThat(nocopy).isEqualTo("file 640 0:0\n1000:50\n");
        // the image's other users' files: refused by name, before anything is copied; the new volume is removed
        String id = "rl-vol-" + Long.toHexString(System.nanoTime() & 0xffffff);
        assertThatThrownBy(() -> runtime.start(id, probe("true").rootfs(null).image("it/volume:t")
                .entrypoint(List.of()).mount(Mount.volume("it-others", "/others")).build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("volume it-others: filling it from /others of the image: rootless: /others/seed is owned by "
                        + (ids.subuid().start() + 999) + ":" + (ids.subgid().start() + 49) + " on the host, another user of the image"
                        + " than the container's root (" + ids.uid() + ":" + ProcStatus.effectiveGid() + "); a rootless runtime fills a"
                        + " volume only with its own files: use the volume option nocopy (see docs/rootless.md)");
        assertThat(runtime.volumes().inspect("it-others")).isEmpty();
        assertThat(stateRoot.resolve(id)).doesNotExist();
        assertThat(runtime.volumes().list()).extracting(Volume::name).contains("it-data", "it-empty");
        assertThat(runtime.volumes().remove("it-data")).isTrue();
        assertThat(runtime.volumes().remove("it-empty")).isTrue();
        assertThat(v.mountpoint().getParent()).doesNotExist();
    }


    /** What the container's root makes on a bind of the user's directory is the user's; what its uid 1000 makes is the user's subordinate uid 1000's. */
    @Test
    void aBindOfTheUsersDirectoryIsReadWriteAndWhatTheContainerMakesIsOwnedOnTheHost() throws Exception {
        Preconditions.requireUnprivileged();
        Path src = Files.createDirectories(tmp.resolve("users-dir"));
        Files.setPosixFilePermissions(src, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(src.resolve("in"), "the user's\n");
        String out = run(copied("owner", "/data", "--", "owner", "/data/in", "--", "cat", "/data/in", "--",
                "write", "/data/by-root", "r", "--", "statvfs", "/data").mount(Mount.bind(src, "/data"))).stdout();
        assertThat(out.lines().toList().subList(0, 3)).containsExactly("0:0", "0:0", "the user's");
        assertThat(out.lines().toList().get(3)).startsWith("rw");
        assertThat(owner(src.resolve("by-root"))).isEqualTo(ids.uid());
        String alice = run(copied("write", "/data/by-alice", "a", "--", "owner", "/data/by-alice", "--",
                "overwrite", "/data/in", "X").user("alice").mount(Mount.bind(src, "/data"))).stdout();
        assertThat(alice.lines()).containsExactly("1000:1000", "open /data/in: Permission denied");
        assertThat(owner(src.resolve("by-alice"))).isEqualTo(ids.subuid().start() + 999);
        assertThat(group(src.resolve("by-alice"))).isEqualTo(ids.subgid().start() + 999);
        assertThat(src.resolve("in")).hasContent("the user's");
    }

    /** As with rootless podman: the bind is made (a mount needs no read permission), and reading is refused inside. */
    @Test
    void aBindOfWhatTheUserCannotReadIsUnreadableInside() throws Exception {
        Preconditions.requireUnprivileged();
        Path shadow = Path.of("/etc/shadow");
        assertThat(Files.isReadable(shadow)).as("/etc/shadow is not the user's to read").isFalse();
        assertThat(Files.isReadable(Path.of("/root"))).isFalse();
        String out = run(copied("cat", "/shadow", "--", "ls", "/rootdir", "--", "owner", "/shadow", "--",
                "write", "/rootdir/x", "x").mount(Mount.bind(shadow, "/shadow")).mount(Mount.bind(Path.of("/root"),
                "/rootdir"))).stdout();
        // root of the host is nobody's in the container's user namespace: 65534, the overflow id
        assertThat(out.lines()).containsExactly("/shadow: Permission denied", "/rootdir: Permission denied",
                "65534:65534", "/rootdir/x: Permission denied");
    }

    @Test
    void anIdmappedMountIsRefusedInOneLineNamingTheMount() throws Exception {
        Preconditions.requireUnprivileged();
        Path src = Files.createDirectories(tmp.resolve("idmap-src"));
        String id = "rl-idmap-" + Long.toHexString(System.nanoTime() & 0xffffff);
        assertThatThrownBy(() -> runtime.start(id, copied("true").mount(Mount.tmpfs("/scratch"))
                .mount(Mount.bind(src, "/data", "ro", "idmap")).build()))
                .isInstanceOf(ContainerStartException.class)
                .hasMessage("rootless: mounts[1] option idmap needs root (the kernel refuses idmapped mounts in a"
                        + " rootless user namespace; see docs/rootless.md)");
        assertThat(stateRoot.resolve(id)).doesNotExist();
        assertThat(runtime.storageRoot().resolve("containers").resolve(id)).doesNotExist();
    }
}
