package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.BerthException;
import dev.berth.cgroups.CgroupException;
import dev.berth.core.ContainerException;
import dev.berth.core.ContainerStartException;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.image.ImageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

/** start() lets out a ContainerException or a caller's mistake, never an UncheckedIOException or an internal type. */
class StartFailureTest {

    @Test
    void ioFailureOfTheStateRootBecomesAStartFailureWithItsMessageAndCause() {
        IOException io = new IOException("disk full");
        RuntimeException r = StartFailure.of(new UncheckedIOException("writing /run/berth/c1/state.json: disk full", io));
        assertThat(r).isInstanceOf(ContainerStartException.class).isInstanceOf(BerthException.class)
                .hasMessage("writing /run/berth/c1/state.json: disk full").hasCause(io);
    }

    @Test
    void internalSyscallErrorKeepsSyscallOperandAndErrno() {
        RuntimeException r = StartFailure.of(new SyscallException("pivot_root", "/x/rootfs", 22, "Invalid argument"));
        assertThat(r).isInstanceOf(ContainerStartException.class).hasMessage("pivot_root(/x/rootfs): Invalid argument");
        ContainerStartException s = (ContainerStartException) r;
        assertThat(s.syscall()).isEqualTo("pivot_root");
        assertThat(s.operand()).isEqualTo("/x/rootfs");
        assertThat(s.errno()).isEqualTo(22);
    }

    @Test
    void otherModulesFailuresBecomeStartFailures() {
        CgroupException cg = new CgroupException("write /sys/fs/cgroup/x/memory.max \"abc\": Invalid argument");
        assertThat(StartFailure.of(cg)).isInstanceOf(ContainerStartException.class).hasMessage(cg.getMessage()).hasCause(cg);
        ImageException img = new ImageException("image busybox: no such image");
        assertThat(StartFailure.of(img)).isInstanceOf(ContainerStartException.class).hasCause(img);
    }

    @Test
    void containerExceptionsAndCallerMistakesPassUnchanged() {
        ContainerException taken = new ContainerException("container c1: already exists");
        assertThat(StartFailure.of(taken)).isSameAs(taken);
        ContainerStartException start = new ContainerStartException("exec(nope): No such file or directory");
        assertThat(StartFailure.of(start)).isSameAs(start);
        IllegalArgumentException arg = new IllegalArgumentException("id: \"..\" must match [a-z]");
        assertThat(StartFailure.of(arg)).isSameAs(arg);
        IllegalStateException closed = new IllegalStateException("runtime closed");
        assertThat(StartFailure.of(closed)).isSameAs(closed);
    }
}
