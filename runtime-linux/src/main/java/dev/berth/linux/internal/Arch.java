package dev.berth.linux.internal;

import java.util.Arrays;
import java.util.Locale;

/**
 * The CPU architectures Berth supports. Kernel constants differ between them (open flags,
 * syscall numbers, struct layouts), so {@link LinuxConstants} picks its values by the
 * architecture of the running JVM, and the jar ships one berth-init per architecture.
 */
public enum Arch {
    X86_64("x86_64", "amd64"),
    AARCH64("aarch64", "arm64");

    private final String linuxName;
    private final String alias;

    Arch(String linuxName, String alias) {
        this.linuxName = linuxName;
        this.alias = alias;
    }

    /**
     * The name {@code uname -m} and the GNU target triplet use: the directory of the
     * berth-init resource ({@code linux-<name>}) and the prefix of the cross compiler.
     */
    public String linuxName() {
        return linuxName;
    }

    /** The architecture of the running JVM. */
    public static Arch current() {
        return of(System.getProperty("os.arch"));
    }

    /**
     * Maps a JVM {@code os.arch} value (the JDK says {@code amd64} on x86_64) or a
     * {@code uname -m} name to the architecture.
     *
     * @throws IllegalStateException for any other architecture: using x86_64's flags there
     *     would open files with the wrong bits set
     */
    public static Arch of(String osArch) {
        String a = osArch == null ? "" : osArch.toLowerCase(Locale.ROOT);
        for (Arch arch : values()) {
            if (arch.linuxName.equals(a) || arch.alias.equals(a)) {
                return arch;
            }
        }
        throw new IllegalStateException("os.arch \"" + osArch + "\" is not supported: Berth's kernel constants "
                + "and its berth-init exist for " + Arrays.stream(values()).map(Arch::linuxName).toList() + " only");
    }
}
