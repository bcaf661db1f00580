package dev.berth.testing;

import java.io.IOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs the test only as root where cgroups are mounted at /sys/fs/cgroup (v1, hybrid or v2): a
 * strict run fails instead of skipping, so a broken detection cannot turn a limits test into a
 * quiet skip.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith({RequiresRoot.Condition.class, RequiresCgroups.Condition.class})
public @interface RequiresCgroups {

    /** The condition. */
    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return Preconditions.evaluate(missing(), "cgroups mounted", true);
        }

        static Optional<String> missing() {
            try {
                boolean mounted = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                        .map(l -> l.split(" - ", 2))
                        .anyMatch(p -> p.length == 2 && p[0].split(" ")[4].startsWith("/sys/fs/cgroup")
                                && (p[1].startsWith("cgroup2 ") || p[1].startsWith("cgroup ")));
                return mounted ? Optional.empty() : Optional.of("requires cgroups mounted at /sys/fs/cgroup");
            } catch (IOException e) {
                return Optional.of("requires cgroups: cannot read /proc/self/mountinfo: " + e.getMessage());
            }
        }
    }
}
