package dev.berth.core.internal;

import dev.berth.core.internal.sys.Syscalls;
import dev.berth.linux.internal.Arch;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

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
        return resourceName(Arch.current());
    }

    /** The classpath resource for {@code arch}: the build puts one there for every {@link Arch}. */
    public static String resourceName(Arch arch) {
        return "/dev/berth/core/native/linux-" + arch.linuxName() + "/berth-init";
    }

    public static NativeInit load(Syscalls sys) {
        String name = resourceName();
        try (InputStream in = NativeInit.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("berth-init for this architecture is not in the jar: " + name
                        + " (the build compiles it with gcc -static for every supported architecture; its warnings name a "
                        + "missing cross compiler)");
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
