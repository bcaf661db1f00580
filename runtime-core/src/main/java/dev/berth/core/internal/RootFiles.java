package dev.berth.core.internal;

import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads small files out of an untrusted root filesystem: resolved with openat2
 * {@code RESOLVE_IN_ROOT} so symlinks cannot leave the root, opened non-blocking so a
 * FIFO cannot hang the JVM, required to be a regular file, and bounded in size.
 */
public final class RootFiles {
    private static final int ENOENT = 2;

    private final Syscalls sys;

    public RootFiles(Syscalls sys) {
        this.sys = sys;
    }

    /**
     * Returns the file's text, or empty when it does not exist.
     *
     * @throws IllegalArgumentException when it is not a regular file or exceeds {@code maxBytes}
     */
    public Optional<String> read(Path root, String path, int maxBytes) {
        int rootFd = sys.open(root.toString(), Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, 0);
        try {
            int fd;
            try {
                fd = sys.openat2(rootFd, path, Syscalls.O_RDONLY | Syscalls.O_NONBLOCK | Syscalls.O_CLOEXEC,
                        Syscalls.RESOLVE_IN_ROOT | Syscalls.RESOLVE_NO_MAGICLINKS);
            } catch (SyscallException e) {
                if (e.errno() == ENOENT) {
                    return Optional.empty();
                }
                throw e;
            }
            try {
                // The magic link names the file actually opened, wherever the lookup led.
                if (!Files.isRegularFile(Path.of("/proc/self/fd/" + fd))) {
                    throw new IllegalArgumentException(root.resolve(path.replaceFirst("^/+", "")) + ": not a regular file");
                }
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                byte[] buf = new byte[8192];
                int n;
                while ((n = sys.read(fd, buf, 0, buf.length)) > 0) {
                    if (out.size() + n > maxBytes) {
                        throw new IllegalArgumentException(root.resolve(path.replaceFirst("^/+", ""))
                                + ": larger than " + maxBytes + " bytes");
                    }
                    out.write(buf, 0, n);
                }
                return Optional.of(out.toString(StandardCharsets.UTF_8));
            } finally {
                sys.close(fd);
            }
        } finally {
            sys.close(rootFd);
        }
    }
}
