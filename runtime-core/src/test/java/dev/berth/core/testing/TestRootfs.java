package dev.berth.core.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** The root filesystem the build makes from src/test/c (a static probe binary and /etc files). */
public final class TestRootfs {
    private TestRootfs() {}

    public static Path path() {
        String p = System.getProperty("berth.test.rootfs");
        Path dir = p != null ? Path.of(p) : Path.of("target/test-rootfs").toAbsolutePath();
        if (p == null && !Files.isDirectory(dir)) {
            dir = Path.of("runtime-core/target/test-rootfs").toAbsolutePath(); // run from the repository root (the VM suite)
        }
        if (!Files.isRegularFile(dir.resolve("bin/probe"))) {
            throw new IllegalStateException("test rootfs missing at " + dir + " (built in generate-test-resources)");
        }
        return dir;
    }

    /**
     * The root holding this build's JDK ({@code src/test/jdk-rootfs/build.sh}: hard links to the host's
     * files, so run it read-only only).
     */
    public static Path jdk() {
        Path dir = Path.of("target/jdk-rootfs").toAbsolutePath();
        if (!Files.isDirectory(dir)) {
            dir = Path.of("runtime-core/target/jdk-rootfs").toAbsolutePath(); // from the repository root (the VM suite)
        }
        if (!Files.isRegularFile(dir.resolve("opt/berth/java-home"))) {
            throw new IllegalStateException("JDK root missing at " + dir + " (built in generate-test-resources)");
        }
        return dir;
    }

    /** The java launcher of {@link #jdk()}: its path inside that root, which is its path on the host too. */
    public static String jdkJava() {
        try {
            return Files.readString(jdk().resolve("opt/berth/java-home")).trim() + "/bin/java";
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
