package dev.berth.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs the test only as root on Linux (real namespaces, mounts, cgroups); otherwise it is skipped
 * with the reason, or fails in a strict run (see {@link Preconditions}). On a test class marked
 * {@link RequiresRootless} (a {@code *RootlessIT} re-running an IT class's inherited tests as an
 * ordinary user) it stands aside: that class's own condition requires the opposite.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("privileged")
@ExtendWith(RequiresRoot.Condition.class)
public @interface RequiresRoot {

    /** The condition. */
    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            if (RequiresRootless.Condition.marks(context)) {
                return ConditionEvaluationResult.enabled("rootless re-run: @RequiresRootless decides");
            }
            return Preconditions.evaluate(Preconditions.notRoot(), "running as root", true);
        }
    }
}
