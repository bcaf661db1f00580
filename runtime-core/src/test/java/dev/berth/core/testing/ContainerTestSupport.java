package dev.berth.core.testing;

import dev.berth.core.Container;
import dev.berth.core.ContainerException;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ExecProcess;
import dev.berth.core.ExecSpec;
import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared plumbing for privileged tests: one runtime per test class on a fresh temporary
 * state and storage root, a spec on the test rootfs, run-and-capture.
 */
public abstract class ContainerTestSupport {
    @TempDir
    protected static Path tmp;
    protected static ContainerRuntime runtime;
    protected static Path stateRoot;

    @BeforeAll
    static void openSharedRuntime() {
        openRuntime(tmp);
    }

    @AfterAll
    static void closeSharedRuntime() {
        closeRuntime();
    }

    /** What a finished container printed, and how it ended. */
    public record Result(ExitStatus status, String stdout) {}

    private static void openRuntime(Path dir) {
        stateRoot = dir.resolve("state");
        runtime = ContainerRuntime.builder().stateRoot(stateRoot).storageRoot(dir.resolve("storage")).build();
    }

    private static void closeRuntime() {
        if (runtime != null) {
            runtime.close();
        }
    }

    /**
     * This JVM's open fds, each with what it points to; not the listing's own, not a file of the
     * JVM's own cgroup (its container support reads the memory limit and CPU quota there now and then,
     * on a thread of its own), and not a seccomp compile's export buffer (another thread's, for a moment).
     */
    protected static Set<String> openFds() throws IOException {
        Path self = Path.of("/proc/self/fd");
        Path listing = self.toRealPath();
        try (Stream<Path> s = Files.list(self)) {
            Set<String> out = new TreeSet<>();
            s.forEach(p -> {
                try {
                    Path target = Files.readSymbolicLink(p);
                    // nor the buffer libseccomp exports a program into, open while a runtime's background
                    // compile of the default profile runs (Libseccomp.exportBytes closes it when done)
                    if (!target.equals(listing) && !isJvmsOwnCgroupFile(target)
                            && !target.toString().equals("/memfd:berth-seccomp (deleted)")) {
                        out.add(p.getFileName() + " " + target);
                    }
                } catch (IOException e) {
                    // closed meanwhile: the listing's own, or another thread's for a moment
                }
            });
            return out;
        }
    }

    /** A file directly in one of this JVM's own cgroup directories (never one of a container's: those are below). */
    private static boolean isJvmsOwnCgroupFile(Path target) {
        Path dir = target.getParent();
        if (dir == null || !target.startsWith("/sys/fs/cgroup")) {
            return false;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                String path = line.substring(line.indexOf(':', line.indexOf(':') + 1) + 1);
                boolean atRoot = path.equals("/");
                if (atRoot ? dir.getParent() != null && dir.getParent().equals(Path.of("/sys/fs/cgroup"))
                        || dir.equals(Path.of("/sys/fs/cgroup")) : dir.toString().endsWith(path)) {
                    return true;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return false;
    }

    /** Runs the probe on the host, outside any container, as the test's root: its output and errors. */
    protected static String host(String... args) throws IOException, InterruptedException {
        java.util.List<String> cmd = new java.util.ArrayList<>();
        cmd.add(TestRootfs.path().resolve("bin/probe").toString());
        cmd.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    protected static ContainerSpec.Builder probe(String... args) {
        String[] argv = new String[args.length + 1];
        argv[0] = "/bin/probe";
        System.arraycopy(args, 0, argv, 1, args.length);
        return ContainerSpec.builder().rootfs(TestRootfs.path()).command(argv)
                .stdout(Stdio.pipe()).stderr(Stdio.inherit());
    }

    /** Runs the container to its end (at most 60 s: a hung container fails the test, it is not waited for). */
    protected static Result run(ContainerSpec.Builder spec) throws ContainerException {
        try (Container c = runtime.start(spec.build())) {
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            ExitStatus status;
            try {
                status = c.onExit().get(60, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                c.kill();
                throw new AssertionError("container still running after 60 s; it printed: "
                        + out.get(10, TimeUnit.SECONDS), e);
            }
            return new Result(status, out.get(10, TimeUnit.SECONDS));
        } catch (Exception e) {
            if (e instanceof ContainerException ce) {
                throw ce;
            }
            throw new IllegalStateException(e);
        }
    }

    protected static String output(String... args) throws ContainerException {
        Result r = run(probe(args));
        if (!r.status().exited() || r.status().exitCode() != 0) {
            throw new AssertionError("probe " + String.join(" ", args) + " ended " + r.status() + ": " + r.stdout());
        }
        return r.stdout();
    }

    /** Runs the probe in a running container ({@code exec}) to its end (at most 60 s): what it printed. */
    protected static String exec(Container c, String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("/bin/probe"));
        argv.addAll(List.of(args));
        try (ExecProcess p = c.exec(ExecSpec.builder().command(argv).stdout(Stdio.pipe()).stderr(Stdio.inherit())
                .build())) {
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.stdout()));
            if (!p.onExit().get(60, TimeUnit.SECONDS).exited()) {
                throw new AssertionError("probe " + String.join(" ", args) + " did not exit");
            }
            return out.get(10, TimeUnit.SECONDS);
        }
    }

    /** All of a stream as UTF-8; a failed read as {@code [read failed: ...]}, for the assertion to show. */
    protected static String read(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "[read failed: " + e.getMessage() + "]";
        }
    }
}
