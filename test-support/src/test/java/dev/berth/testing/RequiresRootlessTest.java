package dev.berth.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The rootless mode's precondition is the opposite of root's, and a run that promises it fails as root. */
class RequiresRootlessTest {
    private final String strict = System.getProperty(Preconditions.STRICT);
    private final String rootless = System.getProperty(RequiresRootless.PROMISED);

    @AfterEach
    void restore() {
        restore(Preconditions.STRICT, strict);
        restore(RequiresRootless.PROMISED, rootless);
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    @Test
    void exactlyOneOfRootAndRootlessIsMet() {
        assertThat(RequiresRootless.Condition.missing().isPresent()).isEqualTo(Preconditions.notRoot().isEmpty());
    }

    @Test
    void asRootItSkipsUnlessTheRunPromisesTheRootlessModeAndAsAUserItRuns() {
        RequiresRootless.Condition c = new RequiresRootless.Condition();
        System.setProperty(Preconditions.STRICT, "false");
        System.setProperty(RequiresRootless.PROMISED, "false");
        if (Preconditions.notRoot().isEmpty()) {
            assertThat(c.evaluateExecutionCondition(null).isDisabled()).isTrue();
            assertThat(c.evaluateExecutionCondition(null).getReason()).hasValueSatisfying(r -> assertThat(r)
                    .startsWith("requires an ordinary user (rootless mode): effective uid is 0"));
            for (String promise : new String[] {Preconditions.STRICT, RequiresRootless.PROMISED}) {
                System.setProperty(promise, "true");
                assertThatThrownBy(() -> c.evaluateExecutionCondition(null)).as(promise)
                        .isInstanceOf(AssertionFailedError.class).hasMessageContaining("effective uid is 0");
                System.setProperty(promise, "false");
            }
        } else {
            assertThat(c.evaluateExecutionCondition(null).isDisabled()).isFalse();
            System.setProperty(RequiresRootless.PROMISED, "true");
            assertThat(c.evaluateExecutionCondition(null).isDisabled()).isFalse();
        }
    }
}
