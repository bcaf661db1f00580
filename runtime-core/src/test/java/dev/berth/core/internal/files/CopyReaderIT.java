package dev.berth.core.internal.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.UserNamespace;
import dev.berth.core.internal.Launcher;
import dev.berth.core.internal.NativeInit;
import dev.berth.core.internal.Reactor;
import dev.berth.core.internal.Supervision;
import dev.berth.core.internal.UserNamespaces;
import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.plan.PlanCompiler;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.testing.RequiresRoot;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rootless copy's reader ({@code OPEN_FILES}, op 39) against the real berth-init, run here by root in a user
 * namespace mapped 0:100000:65536 as a rootless runtime's is mapped onto the user and its subordinate ids: what it
 * may open (files of the namespace's ids, whatever their mode), what it refuses (files of unmapped owners, writing
 * opens, requests without the resolve flags, symlinks and {@code ..} out of the directory) and that nothing stays
 * behind (no process, no fd of the JVM).
 */
@RequiresRoot
class CopyReaderIT {
    private static final UserNamespace MAPPING = UserNamespace.of(100000, 65536);
    private static final long BENEATH = Syscalls.RESOLVE_BENEATH | Syscalls.RESOLVE_NO_SYMLINKS
            | Syscalls.RESOLVE_NO_MAGICLINKS;

    private final Syscalls sys = new LinuxSyscalls();
    private Reactor reactor;
    private NativeInit init;
    private Launcher launcher;
    @TempDir
    Path tmp;
    private Path tree;

    @BeforeEach
    void setUp() throws Exception {
        reactor = new Reactor(sys);
        init = NativeInit.load(sys);
        launcher = new Launcher(sys, init, new Supervision(reactor, Runnable::run, Runnable::run), Duration.ofSeconds(30));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        tree = Files.createDirectory(tmp.resolve("tree"));
        // uid 1000 inside (101000 on the host): a private directory and a private file in it
        Path alice = Files.createDirectories(tree.resolve("home/alice"));
        Files.writeString(alice.resolve("secret"), "alice's secret\n");
        Files.setPosixFilePermissions(alice.resolve("secret"), PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(alice, PosixFilePermissions.fromString("rwx------"));
        chown(alice.resolve("secret"), 101000);
        chown(alice, 101000);
        Files.createSymbolicLink(alice.resolve("shadow"), Path.of("/etc/shadow"));
        Files.createSymbolicLink(alice.resolve("up"), Path.of("../../../.."));
        Files.createLink(alice.resolve("again"), alice.resolve("secret"));
        new ProcessBuilder("mkfifo", alice.resolve("fifo").toString()).start().waitFor();
        // a file of the host's root, mode 0600: no id of the namespace owns it
        Files.writeString(tree.resolve("rootfile"), "host root's\n");
        Files.setPosixFilePermissions(tree.resolve("rootfile"), PosixFilePermissions.fromString("rw-------"));
        for (int i = 0; i < 20; i++) {
            Files.writeString(Files.createDirectories(tree.resolve("data/d" + (i % 4))).resolve("f" + i), "x".repeat(i));
        }
    }

    private static void chown(Path p, int uid) throws IOException {
        Files.setAttribute(p, "unix:uid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", uid, java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    @AfterEach
    void tearDown() {
        reactor.close();
        init.close();
    }

    /** A reader in a new user namespace with the mapping, as a rootless runtime without a shared one starts it. */
    private NamespaceOpener reader() {
        int[] pair = sys.socketpair();
        try {
            Launcher.FileReader r = launcher.openFiles("a copy's reader",
                    PlanCompiler.openFiles(true, -1, Launcher.CONTROL_FD + 1), -1, pair[1],
                    (pid, monitor) -> UserNamespaces.writeMaps(sys, pid, MAPPING));
            return new NamespaceOpener(sys, pair[0], r.end(), "tree");
        } catch (RuntimeException e) {
            sys.close(pair[0]);
            throw e;
        } finally {
            sys.close(pair[1]);
        }
    }

    private static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    private static long berthInits() {
        return ProcessHandle.current().children().filter(p -> p.info().command().orElse("").endsWith("berth-init"))
                .count();
    }

    @Test
    void theReaderOpensAFileOfAnotherMappedUserThatThisProcessCouldNotAndReadingItThroughTheFdNeedsNoPermission()
            throws Exception {
        long before = openFds();
        int dir = sys.open(tree.toString(), Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
        try (NamespaceOpener r = reader()) {
            int fd = r.open(dir, "home/alice/secret", Syscalls.O_RDONLY | Syscalls.O_NOFOLLOW, Syscalls.RESOLVE_IN_ROOT
                    | Syscalls.RESOLVE_NO_MAGICLINKS);
            try {
                byte[] b = new byte[64];
                int n = sys.read(fd, b, 0, b.length);
                assertThat(new String(b, 0, n, StandardCharsets.UTF_8)).isEqualTo("alice's secret\n");
                Syscalls.FileStat st = sys.fstat(fd, "secret");
                assertThat(st.uid()).isEqualTo(101000);
                assertThat(st.mode() & 07777).isEqualTo(0600);
            } finally {
                sys.close(fd);
            }
            // a directory of that user: listed through the reader's fd
            int d = r.open(dir, "home/alice", Syscalls.O_RDONLY | Syscalls.O_DIRECTORY, Syscalls.RESOLVE_IN_ROOT
                    | Syscalls.RESOLVE_NO_MAGICLINKS);
            try {
                assertThat(sys.listDirectory(d, "alice").stream().map(Syscalls.DirEntry::name))
                        .containsExactlyInAnyOrder("secret", "again", "shadow", "up", "fifo");
            } finally {
                sys.close(d);
            }
        } finally {
            sys.close(dir);
        }
        assertThat(openFds()).as("fds of the JVM after the reader ended (others of earlier tests may have closed meanwhile)").isLessThanOrEqualTo(before);
        assertThat(berthInits()).as("the reader and its monitor, ended").isZero();
    }

    @Test
    void theReaderRefusesWhatItsNamespaceDoesNotOwnWritingOpensLinksOutAndDotDot() throws Exception {
        int dir = sys.open(tree.toString(), Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
        try (NamespaceOpener r = reader()) {
            int alice = r.open(dir, "home/alice", Syscalls.O_PATH | Syscalls.O_DIRECTORY, Syscalls.RESOLVE_IN_ROOT
                    | Syscalls.RESOLVE_NO_MAGICLINKS);
            try {
                assertThatThrownBy(() -> r.open(dir, "rootfile", Syscalls.O_RDONLY, BENEATH))
                        .isInstanceOf(SyscallException.class).hasMessageContaining("openat2")
                        .hasMessageContaining(sys.strerror(Syscalls.EACCES));
                // a symlink to a host file is never followed: refused below the directory, inside the root in it
                assertThatThrownBy(() -> r.open(alice, "shadow", Syscalls.O_RDONLY | Syscalls.O_NOFOLLOW, BENEATH))
                        .isInstanceOf(SyscallException.class).hasMessageContaining(sys.strerror(Syscalls.ELOOP));
                assertThatThrownBy(() -> r.open(dir, "home/alice/shadow", Syscalls.O_RDONLY,
                        Syscalls.RESOLVE_IN_ROOT | Syscalls.RESOLVE_NO_MAGICLINKS))
                        .isInstanceOf(SyscallException.class).hasMessageContaining(sys.strerror(Syscalls.ENOENT));
                assertThatThrownBy(() -> r.open(alice, "../../..", Syscalls.O_PATH, Syscalls.RESOLVE_BENEATH
                        | Syscalls.RESOLVE_NO_MAGICLINKS)).isInstanceOf(SyscallException.class)
                        .hasMessageContaining(sys.strerror(Syscalls.EXDEV));
                assertThatThrownBy(() -> r.open(alice, "up/etc/passwd", Syscalls.O_RDONLY, Syscalls.RESOLVE_BENEATH
                        | Syscalls.RESOLVE_NO_MAGICLINKS)).isInstanceOf(SyscallException.class)
                        .hasMessageContaining(sys.strerror(Syscalls.EXDEV));
                // the plan allows reading opens only, each with RESOLVE_NO_MAGICLINKS and BENEATH or IN_ROOT
                int wronly = 1;
                int creat = 0100;
                assertThatThrownBy(() -> r.open(alice, "secret", wronly, BENEATH)).isInstanceOf(SyscallException.class)
                        .hasMessageContaining(sys.strerror(Syscalls.EPERM));
                assertThatThrownBy(() -> r.open(alice, "made", creat, BENEATH)).isInstanceOf(SyscallException.class)
                        .hasMessageContaining(sys.strerror(Syscalls.EPERM));
                assertThatThrownBy(() -> r.open(alice, "secret", Syscalls.O_RDONLY, Syscalls.RESOLVE_BENEATH))
                        .isInstanceOf(SyscallException.class).hasMessageContaining(sys.strerror(Syscalls.EPERM));
                assertThatThrownBy(() -> r.open(alice, "secret", Syscalls.O_RDONLY, Syscalls.RESOLVE_NO_MAGICLINKS))
                        .isInstanceOf(SyscallException.class).hasMessageContaining(sys.strerror(Syscalls.EPERM));
                assertThat(tree.resolve("home/alice/made")).doesNotExist();
                // a FIFO opened for its stat only (O_PATH), and even for reading it does not block (O_NONBLOCK)
                int fifo = r.open(alice, "fifo", Syscalls.O_PATH | Syscalls.O_NOFOLLOW, BENEATH);
                assertThat(sys.fstat(fifo, "fifo").type()).isEqualTo(Syscalls.S_IFIFO);
                sys.close(fifo);
                // the reader still answers after refusals
                int ok = r.open(alice, "secret", Syscalls.O_RDONLY | Syscalls.O_NOFOLLOW, BENEATH);
                sys.close(ok);
            } finally {
                sys.close(alice);
            }
        } finally {
            sys.close(dir);
        }
        assertThat(berthInits()).isZero();
    }

    @Test
    void anArchiveThroughTheReaderIsTheArchiveRootMakesDirectlyBytesForBytes() throws Exception {
        Files.delete(tree.resolve("rootfile")); // not the namespace's to read
        try (FsRoot root = FsRoot.open(sys, tree, "tree")) {
            ByteArrayOutputStream direct = new ByteArrayOutputStream();
            TreeArchiver.archive(root, "/", ".", direct);
            ByteArrayOutputStream through = new ByteArrayOutputStream();
            long before = openFds();
            try (NamespaceOpener r = reader()) {
                TreeArchiver.requireReadable(root, r, "/");
                TreeArchiver.archive(root, r, "/", ".", through);
            }
            assertThat(openFds()).as("no fd left in the JVM (others of earlier tests may have closed meanwhile)").isLessThanOrEqualTo(before);
            assertThat(through.toByteArray()).isEqualTo(direct.toByteArray());
            assertThat(direct.size()).isGreaterThan(20 * 512);
        }
    }

    @Test
    void aTreeThatSwapsADirectoryForALinkToTheHostsRootWhileItIsArchivedNeverYieldsAHostFile() throws Exception {
        Path data = tree.resolve("data");
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread swapper = new Thread(() -> {
            while (!stop.get()) {
                try {
                    Files.move(data.resolve("d0"), data.resolve("held"));
                    Files.createSymbolicLink(data.resolve("d0"), Path.of("/etc"));
                    Files.delete(data.resolve("d0"));
                    Files.move(data.resolve("held"), data.resolve("d0"));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        });
        long before = openFds();
        int ok = 0;
        int failed = 0;
        swapper.start();
        try (FsRoot root = FsRoot.open(sys, tree, "tree"); NamespaceOpener r = reader()) {
            for (int i = 0; i < 200; i++) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try {
                    TreeArchiver.archive(root, r, "/data", "data", out);
                    ok++;
                } catch (IOException e) {
                    failed++;
                    assertThat(e.getMessage()).startsWith("tree: /data/").doesNotContain("\n");
                }
                String text = out.toString(StandardCharsets.ISO_8859_1);
                assertThat(text).doesNotContain("root:x:0:0").doesNotContain("data/d0/passwd");
            }
        } finally {
            stop.set(true);
            swapper.join();
        }
        assertThat(ok + failed).isEqualTo(200);
        assertThat(openFds()).as("no fd left in the JVM (others of earlier tests may have closed meanwhile)").isLessThanOrEqualTo(before);
        assertThat(berthInits()).isZero();
    }

    @Test
    void aFileOfNoMappedOwnerFailsTheCheckInOneLineNamingItsModeAndOwner() throws Exception {
        try (FsRoot root = FsRoot.open(sys, tree, "container web"); NamespaceOpener r = reader()) {
            assertThatThrownBy(() -> TreeArchiver.requireReadable(root, r, "/"))
                    .isInstanceOf(AccessDeniedException.class)
                    .hasMessage("container web: /rootfile: it cannot be read: Permission denied (mode 0600, owner uid 0"
                            + " on the host; read as the root of the user's namespace, which may read only files of the"
                            + " user and its subordinate ids: its owner is neither; see docs/rootless.md)");
        }
    }

    @Test
    void aReaderWhoseJvmEndGoesAwayEndsAndAKilledReaderFailsTheNextOpenInsteadOfHanging() throws Exception {
        int dir = sys.open(tree.toString(), Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
        int[] pair = sys.socketpair();
        Launcher.FileReader fr;
        try {
            fr = launcher.openFiles("a copy's reader", PlanCompiler.openFiles(true, -1, Launcher.CONTROL_FD + 1), -1,
                    pair[1], (pid, monitor) -> UserNamespaces.writeMaps(sys, pid, MAPPING));
        } finally {
            sys.close(pair[1]);
        }
        NamespaceOpener r = new NamespaceOpener(sys, pair[0], fr.end(), "tree");
        try {
            ProcessHandle.of(fr.pid()).orElseThrow().destroyForcibly();
            CompletableFuture<Object> open = CompletableFuture.supplyAsync(() -> {
                try {
                    return r.open(dir, "data", Syscalls.O_PATH, BENEATH);
                } catch (IOException | RuntimeException e) {
                    return e;
                }
            });
            Object got = open.get(NamespaceOpener.ANSWER_MILLIS + 10_000L, TimeUnit.MILLISECONDS);
            assertThat(got).isInstanceOf(IOException.class);
            assertThat(((Exception) got).getMessage()).contains("the copy's reader in the user namespace");
        } finally {
            r.close();
            sys.close(dir);
        }
        assertThat(berthInits()).isZero();
    }
}
