package dev.berth.core.internal;

import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;

/**
 * The berth-init binary, copied once from the jar into a sealed memfd. The monitor is
 * spawned from {@code /proc/self/fd/N}: no path the container could reach or rewrite
 * (CVE-2019-5736), and the seals make the copy immutable.
 */
public final class NativeInit implements AutoCloseable {

    static final int ALL_SEALS = Syscalls.F_SEAL_SEAL | Syscalls.F_SEAL_SHRINK | Syscalls.F_SEAL_GROW | Syscalls.F_SEAL_WRITE;

    private final Syscalls sys;
    private final int fd;

    private NativeInit(Syscalls sys, int fd) {
        this.sys = sys;
        this.fd = fd;
    }

    /** The classpath resource for this machine's architecture. */
    public static String resourceName() {
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String dir = switch (arch) {
            case "amd64", "x86_64" -> "linux-x86_64";
            case "aarch64", "arm64" -> "linux-aarch64";
            default -> "linux-" + arch;
        };
        return "/dev/berth/core/native/" + dir + "/berth-init";
    }

    public static NativeInit load(Syscalls sys) {
        String name = resourceName();
        try (InputStream in = NativeInit.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("berth-init for this architecture is not in the jar: " + name
                        + " (the build compiles it with gcc -static for the build machine's architecture)");
            }
            return fromBytes(sys, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + name, e);
        }
    }

    /** A sealed memfd holding {@code binary}; the seals are read back, not assumed. */
    public static NativeInit fromBytes(Syscalls sys, byte[] binary) {
        int fd = sys.memfdCreate("berth-init", Syscalls.MFD_CLOEXEC | Syscalls.MFD_ALLOW_SEALING);
        try {
            int off = 0;
            while (off < binary.length) {
                off += sys.write(fd, binary, off, binary.length - off);
            }
            sys.addSeals(fd, ALL_SEALS);
            int seals = sys.getSeals(fd);
            if ((seals & ALL_SEALS) != ALL_SEALS) {
                throw new IllegalStateException("berth-init memfd: seals 0x" + Integer.toHexString(seals)
                        + " after adding 0x" + Integer.toHexString(ALL_SEALS) + "; refusing to run an unsealed init");
            }
        } catch (RuntimeException e) {
            sys.close(fd);
            throw e;
        }
        return new NativeInit(sys, fd);
    }

    /** The seals the kernel holds on the init's memfd. */
    public int seals() {
        return sys.getSeals(fd);
    }

    /** The path posix_spawn executes. */
    public String path() {
        return "/proc/self/fd/" + fd;
    }

    @Override
    public void close() {
        sys.close(fd);
    }
}
