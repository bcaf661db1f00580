package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Capability;
import dev.berth.core.Namespace;
import dev.berth.core.internal.plan.ExecProfile;
import dev.berth.core.internal.plan.TargetPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The exec profile kept in a container's state directory, for runtimes that did not start it. */
class ExecProfileStoreTest {
    @TempDir
    Path dir;

    @Test
    void itRoundTripsAndGoesWithTheState() {
        StateStore store = new StateStore(dir.resolve("state"), new dev.berth.core.internal.linux.LinuxSyscalls());
        StateStore.Claim claim = store.claim("c1");
        assertThat(claim.result()).isEqualTo(StateStore.ClaimResult.CLAIMED);
        assertThat(store.readExecProfile("c1")).isEmpty();
        ExecProfile p = new ExecProfile(new TargetPolicy(EnumSet.of(Capability.CHOWN, Capability.KILL), true, true),
                EnumSet.of(Namespace.MOUNT, Namespace.PID), List.of(new ExecProfile.Limit(7, 100, 200, "RLIMIT_NOFILE")),
                List.of("PATH=/bin", "A=b=c"), "alice:staff", "/tmp", "/sys/fs/cgroup/unified/berth/c1",
                List.of("/sys/fs/cgroup/unified/berth/c1/cgroup.procs", "/sys/fs/cgroup/memory/berth/c1/cgroup.procs"));
        store.writeExecProfile("c1", p);
        assertThat(store.readExecProfile("c1")).contains(p);
        store.remove("c1");
        claim.lock().close();
        assertThat(Files.exists(dir.resolve("state").resolve("c1"))).isFalse();
    }
}
