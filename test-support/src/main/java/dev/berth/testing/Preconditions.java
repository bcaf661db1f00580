package dev.berth.testing;

import dev.berth.linux.internal.ProcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.opentest4j.AssertionFailedError;

/**
 * What privileged tests need from the machine, checked in one place. A test whose precondition is
 * missing is skipped with the reason, except where the environment promises it: with
 * {@code -Dberth.test.strict=true} (test.sh sets it when it runs as root, after installing every
 * tool) a missing precondition fails the test instead, so a regression in detection can no longer
 * skip a privileged test quietly.
 */
public final class Preconditions {
    /** The system property that turns a skip into a failure. */
    public static final String STRICT = "berth.test.strict";

    private Preconditions() {}

    /** Whether this run promises every precondition (CI). */
    public static boolean strict() {
        return Boolean.getBoolean(STRICT);
    }

    /** Whether this JVM runs inside the cgroup v2 VM of .ci/vm (run-in-vm.sh sets BERTH_CI_VM=1). */
    public static boolean inVm() {
        return "1".equals(System.getenv("BERTH_CI_VM"));
    }

    /**
     * Skips the test with {@code reason} when {@code met} is false, or fails it in a strict run.
     * For what CI promises: root, the peer tools, cgroups, loop devices.
     */
    public static void require(boolean met, String reason) {
        if (met) {
            return;
        }
        if (strict()) {
            throw new AssertionFailedError("precondition missing in a run that promises it (-D" + STRICT
                    + "=true): " + reason);
        }
        Assumptions.assumeTrue(false, reason);
    }

    /** {@link #require} as a JUnit condition result (for annotations). */
    static ConditionEvaluationResult evaluate(Optional<String> missing, String enabledReason, boolean promised) {
        if (missing.isEmpty()) {
            return ConditionEvaluationResult.enabled(enabledReason);
        }
        if (promised && strict()) {
            // An exception from a condition fails the test (and says why), where a disabled result would skip it.
            throw new AssertionFailedError("precondition missing in a run that promises it (-D" + STRICT + "=true): "
                    + missing.get());
        }
        return ConditionEvaluationResult.disabled(missing.get());
    }

    /** Why this process is not root on Linux, or empty when it is. */
    public static Optional<String> notRoot() {
        if (!System.getProperty("os.name").equals("Linux")) {
            return Optional.of("requires root on Linux: running on " + System.getProperty("os.name"));
        }
        try {
            long euid = ProcStatus.effectiveUid();
            return euid == 0 ? Optional.empty() : Optional.of("requires root: effective uid is " + euid);
        } catch (RuntimeException e) { // unreadable, or no (or a malformed) Uid: line
            return Optional.of("requires root: " + e.getMessage());
        }
    }

    /**
     * This process's effective uid, for a {@code *RootlessIT}: fails (not skips) the test when it is 0, since the
     * rootless stage (.ci/rootless-suite.sh) promises an unprivileged user and a rootless test run as root would
     * prove nothing.
     */
    public static long requireUnprivileged() {
        long euid;
        try {
            euid = ProcStatus.effectiveUid();
        } catch (RuntimeException e) {
            throw new AssertionFailedError("cannot tell the effective uid: " + e.getMessage());
        }
        if (euid == 0) {
            throw new AssertionFailedError("a *RootlessIT runs as an unprivileged user (.ci/rootless-suite.sh), not as"
                    + " root");
        }
        return euid;
    }

    /** Skips (or fails, in a strict run) unless {@code tool} is on the PATH; {@code pkg} names its Debian package. */
    public static void requireTool(String tool, String pkg) {
        require(onPath(tool).isPresent(), tool + " is not installed (apt-get install " + pkg + ")");
    }

    /** Where {@code tool} is on the PATH (or in /usr/sbin, /sbin, /usr/bin), if anywhere. */
    public static Optional<Path> onPath(String tool) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin"));
        for (String dir : dirs) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, tool);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
