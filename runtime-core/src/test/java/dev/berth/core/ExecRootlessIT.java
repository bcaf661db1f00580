package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.internal.RootlessStart;
import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRootless;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link ExecIT} run by an ordinary user (.ci/rootless-suite.sh): a process exec'd into a rootless
 * container joins its user namespace and everything else the same way. Where rootless differs, the
 * expectation says how: no device cgroup, so no CAP_MKNOD; the init is closed to the user (the
 * namespaces are read through its child); no cgroup freezer, so no pause.
 */
@RequiresRootless
class ExecRootlessIT extends ExecIT {

    @Override
    protected long namespaceHolder(Container c) {
        long pid = RootlessStart.inspectable(c.pid());
        assertThat(pid).as("the init's child (the target), not the init closed to the user").isNotEqualTo(c.pid());
        return pid;
    }

    @Override
    protected long boundingSet(Set<Capability> caps) {
        return super.boundingSet(caps) & ~(1L << Capability.MKNOD.bit());
    }

    /**
     * Without a delegated cgroup there is no freezer: pause() says so and changes nothing, and execs go
     * on working in the running container.
     */
    @Override
    @Test
    void aPausedContainerRefusesExecsUntilResumed() throws Exception {
        Preconditions.requireUnprivileged();
        try (Container c = sleeper(sleeping())) {
            assertThatThrownBy(c::pause).hasMessageContaining("without a cgroup");
            assertThat(c.status()).isEqualTo(ContainerStatus.RUNNING);
            assertThat(out(c, "echo", "not paused")).isEqualTo("not paused\n");
        }
    }
}
