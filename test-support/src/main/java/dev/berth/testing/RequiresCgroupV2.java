package dev.berth.testing;

import java.io.IOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs the test only as root on a unified cgroup v2 host with the memory, pids, cpu and io
 * controllers: the qemu VM of .ci/vm, where these tests run as the cgroup v2 suite. Elsewhere (the
 * hybrid CI host) they are skipped with the reason; inside the VM a strict run fails instead.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("cgroup-v2")
@ExtendWith({RequiresRoot.Condition.class, RequiresCgroupV2.Condition.class})
public @interface RequiresCgroupV2 {

    /** The condition. */
    final class Condition implements ExecutionCondition {
        private static final List<String> NEEDED = List.of("memory", "pids", "cpu", "io");

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return Preconditions.evaluate(missing(), "cgroup v2 with " + NEEDED, Preconditions.inVm());
        }

        static Optional<String> missing() {
            try {
                boolean unified = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                        .map(l -> l.split(" - ", 2))
                        .anyMatch(p -> p.length == 2 && p[0].split(" ")[4].equals("/sys/fs/cgroup")
                                && p[1].startsWith("cgroup2 "));
                if (!unified) {
                    return Optional.of("requires cgroup v2: /sys/fs/cgroup is not a cgroup2 mount (runs in the"
                            + " qemu VM suite, .ci/vm/cgroup-v2-suite.sh)");
                }
                List<String> have = Arrays.asList(
                        Files.readString(Path.of("/sys/fs/cgroup/cgroup.controllers")).trim().split("\\s+"));
                return have.containsAll(NEEDED) ? Optional.empty()
                        : Optional.of("requires cgroup v2 controllers " + NEEDED + ", have " + have);
            } catch (IOException | RuntimeException e) {
                return Optional.of("requires cgroup v2: " + e.getMessage());
            }
        }
    }
}
