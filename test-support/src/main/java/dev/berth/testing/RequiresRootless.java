package dev.berth.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.AssertionFailedError;

/**
 * Runs the test only as an ordinary user (effective uid not 0): the rootless mode, where Berth starts
 * every container in a user namespace whose root is that user. A {@code *RootlessIT} subclass of a
 * {@link RequiresRoot} IT class carries it to re-run the inherited tests rootless (the way a
 * {@code *V2IT} subclass re-runs them on cgroup v2); on such a class it takes the place of the
 * inherited root requirement, which then stands aside for it (see {@link RequiresRoot.Condition}).
 * Run as root, the test is skipped with the reason, and fails in a run that promises the rootless
 * mode ({@code -Dberth.test.strict=true} or {@code -Dberth.test.rootless=true}, as .ci/rootless-suite.sh
 * sets both): a rootless test run as root would prove nothing.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Tag("rootless")
@ExtendWith(RequiresRootless.Condition.class)
public @interface RequiresRootless {
    /** The system property the rootless stage sets. */
    String PROMISED = "berth.test.rootless";

    /** The condition. */
    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            Optional<String> missing = missing();
            if (missing.isPresent() && !Preconditions.strict() && Boolean.getBoolean(PROMISED)) {
                // the rootless stage's promise, strict or not: a failure (an exception), not a skip
                throw new AssertionFailedError("precondition missing in a run that promises it (-D" + PROMISED
                        + "=true): " + missing.get());
            }
            return Preconditions.evaluate(missing, "running as an ordinary user", true);
        }

        /** Why this process cannot test the rootless mode (it is root, or not on Linux), or empty. */
        static Optional<String> missing() {
            Optional<String> notRoot = Preconditions.notRoot();
            if (notRoot.isEmpty()) {
                return Optional.of("requires an ordinary user (rootless mode): effective uid is 0"
                        + " (run by .ci/rootless-suite.sh)");
            }
            return notRoot.get().startsWith("requires root: effective uid is ") ? Optional.empty()
                    : Optional.of("requires an ordinary user on Linux: " + notRoot.get());
        }

        /** Whether the test class (or one it is nested in) is marked {@link RequiresRootless}. */
        static boolean marks(ExtensionContext context) {
            for (Class<?> c = context.getTestClass().orElse(null); c != null; c = c.getEnclosingClass()) {
                if (c.isAnnotationPresent(RequiresRootless.class)) {
                    return true;
                }
            }
            return false;
        }
    }
}
