package dev.berth.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.linux.internal.ProcStatus;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** A missing precondition skips a test, except in a strict run, where it fails it. */
class PreconditionsTest {
    private final String saved = System.getProperty(Preconditions.STRICT);

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty(Preconditions.STRICT);
        } else {
            System.setProperty(Preconditions.STRICT, saved);
        }
    }

    @Test
    void aMissingPreconditionSkipsWithItsReason() {
        System.setProperty(Preconditions.STRICT, "false");
        assertThatThrownBy(() -> Preconditions.require(false, "umoci is not installed"))
                .isInstanceOf(TestAbortedException.class).hasMessageContaining("umoci is not installed");
        assertThat(Preconditions.evaluate(Optional.of("requires root"), "root", true).isDisabled()).isTrue();
        Preconditions.require(true, "never shown");
    }

    @Test
    void inAStrictRunAMissingPreconditionFails() {
        System.setProperty(Preconditions.STRICT, "true");
        assertThatThrownBy(() -> Preconditions.require(false, "umoci is not installed"))
                .isInstanceOf(AssertionFailedError.class)
                .hasMessage("precondition missing in a run that promises it (-Dberth.test.strict=true): umoci is not installed");
        assertThatThrownBy(() -> Preconditions.evaluate(Optional.of("requires root: effective uid is 1000"), "root", true))
                .isInstanceOf(AssertionFailedError.class).hasMessageEndingWith("requires root: effective uid is 1000");
        // what the run does not promise (cgroup v2 outside the VM) still skips
        assertThat(Preconditions.evaluate(Optional.of("requires cgroup v2"), "v2", false).isDisabled()).isTrue();
        assertThat(Preconditions.evaluate(Optional.empty(), "root", true).isDisabled()).isFalse();
    }

    @Test
    void rootAndUnprivilegedAreDecidedByTheEffectiveUid() {
        long euid = ProcStatus.effectiveUid();
        if (euid == 0) {
            assertThat(Preconditions.notRoot()).isEmpty();
            assertThatThrownBy(Preconditions::requireUnprivileged).isInstanceOf(AssertionFailedError.class)
                    .hasMessage("a *RootlessIT runs as an unprivileged user (.ci/rootless-suite.sh), not as root");
        } else {
            assertThat(Preconditions.notRoot()).contains("requires root: effective uid is " + euid);
            assertThat(Preconditions.requireUnprivileged()).isEqualTo(euid);
        }
    }
}
