package dev.berth.core.testing;

import dev.berth.testing.Preconditions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Host programs the privileged tests drive (losetup, mount, umoci, cp, ...), found on the PATH or in sbin. */
public final class HostCommand {
    private HostCommand() {}

    /** Runs {@code cmd} in {@code dir}; returns what it printed, or fails naming the command and its output. */
    public static String run(Path dir, String... cmd) throws IOException, InterruptedException {
        String[] argv = cmd.clone();
        argv[0] = Preconditions.onPath(cmd[0]).map(Path::toString).orElse(cmd[0]);
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    /** Runs {@code cmd} in the current directory. */
    public static String run(String... cmd) throws IOException, InterruptedException {
        return run(null, cmd);
    }

    /** What changes a copy of the test root before it is packed as the image's one layer. */
    public interface RootfsChange {
        void apply(Path rootfs) throws Exception;
    }

    /**
     * An OCI layout {@code dir/L} with the image {@code L:t}: one layer made by umoci from the
     * test root filesystem after {@code change}.
     */
    public static Path umociImage(Path dir, RootfsChange change) throws Exception {
        Preconditions.requireTool("umoci", "umoci");
        java.nio.file.Files.createDirectories(dir);
        run(dir, "umoci", "init", "--layout", "L");
        run(dir, "umoci", "new", "--image", "L:t");
        run(dir, "umoci", "unpack", "--image", "L:t", "B");
        run(dir, "cp", "-a", TestRootfs.path() + "/.", dir.resolve("B/rootfs").toString());
        change.apply(dir.resolve("B/rootfs"));
        run(dir, "umoci", "repack", "--image", "L:t", "B");
        return dir.resolve("L");
    }
}
