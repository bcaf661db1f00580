package dev.berth.examples.embed;

import dev.berth.core.Capability;
import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.Seccomp;
import dev.berth.core.SeccompNotification;
import dev.berth.core.SeccompResponse;
import dev.berth.core.Stdio;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Audits a container's mount attempts with a seccomp listener ({@code SECCOMP_RET_USER_NOTIF}): every
 * {@code mount} of the container stops in the kernel until the listener has seen it, logged it and
 * answered. Here a tmpfs on /tmp may go ahead, anything else is refused with EPERM. docs/api.md walks
 * through this file.
 *
 * <p>Run as root: {@code java -cp ... dev.berth.examples.embed.MountAuditExample ROOTFS}
 */
public final class MountAuditExample {

    private static final int EPERM = 1;

    public static void main(String[] args) throws Exception {
        Path rootfs = Path.of(args.length > 0 ? args[0] : "examples/target/rootfs");
        Path state = Files.createTempDirectory("berth-audit");

        // mount(source, target, fstype, flags, data): the pointers are addresses in the caller's memory
        Seccomp audited = Seccomp.defaultProfile().withListener(Set.of("mount"), call -> {
            String target = readString(call, call.arguments().get(1));
            String fstype = readString(call, call.arguments().get(2));
            boolean allowed = target.equals("/tmp") && fstype.equals("tmpfs");
            System.out.println("audit: " + call.containerId() + " pid " + call.pid() + " " + call.syscall() + " "
                    + fstype + " on " + target + ": " + (allowed ? "allowed" : "refused"));
            // continue lets the kernel run the call (and check CAP_SYS_ADMIN, which this container has); the
            // kernel reads the arguments again then, so a decision on pointed-to data is advice, an errno is final
            return allowed ? SeccompResponse.continueSyscall() : SeccompResponse.errno(EPERM);
        });

        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(state).build();
             Container c = runtime.start("audited", ContainerSpec.builder()
                     .rootfs(rootfs)
                     .command("/bin/probe", "mount-tmpfs", "/tmp", "--", "mount-tmpfs", "/proc")
                     .addCapabilities(Capability.SYS_ADMIN) // Docker's profile then allows mount: the listener decides
                     .seccomp(audited)
                     .stdout(Stdio.pipe())
                     .build())) {
            String out = new String(c.stdout().readAllBytes(), StandardCharsets.UTF_8);
            c.onExit().join();
            System.out.print("container said:\n" + out);
        }
    }

    /** A NUL-terminated string at {@code address} in the caller's memory, read while it waits in the syscall. */
    static String readString(SeccompNotification call, long address) {
        try (RandomAccessFile mem = new RandomAccessFile("/proc/" + call.pid() + "/mem", "r")) {
            mem.seek(address);
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            for (int i = 0, ch; i < 4096 && (ch = mem.read()) > 0; i++) {
                b.write(ch);
            }
            return b.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "?(" + e.getMessage() + ")";
        }
    }

    private MountAuditExample() {}
}
