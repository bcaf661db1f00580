package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.Preconditions;
import dev.berth.core.ContainerStartException;
import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.plan.Op;
import dev.berth.core.internal.plan.OpCode;
import dev.berth.core.internal.plan.Plan;
import dev.berth.core.internal.sys.Syscalls;
import dev.berth.core.internal.sys.WaitStatus;
import dev.berth.linux.internal.Arch;
import dev.berth.linux.internal.LinuxConstants;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each architecture's berth-init, as the build left it in the classes directory, speaks the
 * start protocol: spawned as Launcher spawns it (the control SOCK_SEQPACKET socket at fd 3,
 * argv[1] = 3), sent a plan, its replies decoded by {@link MonitorMessage}. The build machine's
 * binary runs directly; the other one under qemu-user ({@code qemu-aarch64-static} on x86_64),
 * which is how CI tests the aarch64 binary without an aarch64 machine. No privileges needed.
 *
 * <p>qemu-user emulates system calls one by one and does not emulate clone3 (qemu 7.2 answers
 * ENOSYS), so under it a well-formed plan ends at op 0 with an error record naming clone3; that
 * still proves the binary parses the plan, runs op 0 and reports in the wire format. Containers
 * on aarch64 itself are tested by the ITs on an aarch64 machine or in a qemu-system VM.
 */
class BerthInitProtocolTest {
    private static final int EINVAL = 22;
    private static final int REPLY_TIMEOUT_MILLIS = 60_000;

    private final Syscalls sys = new LinuxSyscalls();

    @ParameterizedTest
    @EnumSource(Arch.class)
    void aMalformedPlanIsRefusedNamingPlan(Arch arch) throws Exception {
        try (Monitor m = new Monitor(arch)) {
            m.sendPlan("not a plan".getBytes(StandardCharsets.US_ASCII));
            MonitorMessage reply = m.receive();
            assertThat(reply).isEqualTo(new MonitorMessage('E', 0, EINVAL, "plan"));
            assertThat(m.exitCode()).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void aWellFormedPlanRunsClone3(Arch arch) throws Exception {
        Plan plan = new Plan(List.of(Op.clone(0, -1), Op.of(OpCode.WAIT_GO)));
        try (Monitor m = new Monitor(arch)) {
            m.sendPlan(plan.encode());
            MonitorMessage reply = m.receive();
            if (m.emulated && reply.type() == 'E') {
                // qemu-user's answer to clone3: an error record for op 0, in the format Launcher turns into
                // "clone3(clone3): <strerror>" (ENOSYS, "Function not implemented", with qemu 7.2).
                assertThat(reply.value()).as("failing op index").isZero();
                assertThat(reply.operand()).isEqualTo("clone3");
                assertThat(reply.errno()).as("errno").isPositive();
                ContainerStartException e = launcher().startError(plan, reply);
                assertThat(e.getMessage()).isEqualTo("clone3(clone3): " + sys.strerror(reply.errno()));
                assertThat(m.exitCode()).isEqualTo(1);
                return;
            }
            // Natively (and under a qemu that emulates clone3): cloned, go, and the init ran out of ops without
            // an exec: ended during setup, with its wait status (exited 0).
            assertThat(reply.type()).as("reply %s", reply).isEqualTo('C');
            assertThat(reply.value()).as("init pid").isPositive();
            m.send(new byte[] {'G'});
            assertThat(m.receive()).isEqualTo(new MonitorMessage('K', 0, 0, ""));
            assertThat(m.exitCode()).isEqualTo(1);
        }
    }

    private Launcher launcher() {
        return new Launcher(sys, null, null, Duration.ofSeconds(60));
    }

    /** qemu-ARCH-static (Debian's qemu-user-static), or qemu-ARCH, on the PATH or in /usr/bin. */
    private static Optional<Path> qemu(Arch arch) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        dirs.add("/usr/bin");
        for (String name : List.of("qemu-" + arch.linuxName() + "-static", "qemu-" + arch.linuxName())) {
            for (String dir : dirs) {
                Path p = Path.of(dir.isEmpty() ? "." : dir, name);
                if (Files.isExecutable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    /** One berth-init monitor process and the JVM end of its control socket. */
    private final class Monitor implements AutoCloseable {
        final boolean emulated;
        final long pid;
        final int ctl;
        final int epfd;
        Integer status;

        Monitor(Arch arch) throws URISyntaxException {
            URL url = NativeInit.class.getResource(NativeInit.resourceName(arch));
            assertThat(url).as("%s berth-init on the classpath (see NativeBinariesTest)", arch.linuxName()).isNotNull();
            assertThat(url.getProtocol()).as("tests run from the classes directory").isEqualTo("file");
            String binary = Path.of(url.toURI()).toString();
            emulated = arch != Arch.current();
            String path;
            List<String> argv;
            if (emulated) {
                Optional<Path> qemu = qemu(arch);
                Preconditions.require(qemu.isPresent(), "qemu-" + arch.linuxName() + "-static is not installed "
                        + "(Debian: qemu-user-static; .ci/install-deps.sh installs it): the " + arch.linuxName()
                        + " berth-init cannot run on this " + Arch.current().linuxName() + " machine");
                path = qemu.get().toString();
                argv = List.of(path, binary, Integer.toString(Launcher.CONTROL_FD));
            } else {
                path = binary;
                argv = List.of("berth-init", Integer.toString(Launcher.CONTROL_FD));
            }
            int[] pair = sys.socketpair();
            try {
                pid = sys.spawn(path, argv, List.of(), Map.of(Launcher.CONTROL_FD, pair[1]));
            } finally {
                sys.close(pair[1]);
            }
            ctl = pair[0];
            epfd = sys.epollCreate();
            sys.epollAdd(epfd, ctl, ctl);
        }

        /** A plan, framed as Launcher frames it (length, then chunks). */
        void sendPlan(byte[] plan) {
            launcher().sendPlan(ctl, plan);
        }

        void send(byte[] packet) {
            assertThat(sys.write(ctl, packet, 0, packet.length)).isEqualTo(packet.length);
        }

        MonitorMessage receive() {
            long[] ready = new long[1];
            assertThat(sys.epollWait(epfd, ready, REPLY_TIMEOUT_MILLIS))
                    .as("a reply from berth-init within %d ms", REPLY_TIMEOUT_MILLIS).isEqualTo(1);
            byte[] buf = new byte[8192];
            int n = sys.read(ctl, buf, 0, buf.length);
            assertThat(n).as("reply length (0: berth-init closed the socket)").isPositive();
            return MonitorMessage.decode(buf, n);
        }

        int exitCode() {
            status = sys.waitpid(pid, false);
            assertThat(WaitStatus.exited(status)).as("berth-init exited (wait status %d)", status).isTrue();
            return WaitStatus.exitCode(status);
        }

        @Override
        public void close() {
            sys.close(epfd);
            sys.close(ctl); // a monitor still running sees EOF and kills its init
            if (status == null) {
                int pidfd = sys.pidfdOpen(pid);
                sys.pidfdSendSignal(pidfd, LinuxConstants.SIGKILL);
                sys.close(pidfd);
                sys.waitpid(pid, false);
            }
        }
    }
}
