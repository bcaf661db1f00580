package dev.berth.core.internal;

import dev.berth.core.SeccompListener;
import dev.berth.core.SeccompNotification;
import dev.berth.core.SeccompResponse;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listener fd of a container's seccomp filter, on the reactor: the reactor thread only receives
 * each notification ({@code SECCOMP_IOCTL_NOTIF_RECV}, which does not block once the fd is readable)
 * and hands it to the callback executor, where the user's {@link SeccompListener} decides and the
 * answer is sent. The fd ends when the filter has no process left (POLLHUP).
 */
public final class SeccompNotifier implements Reactor.Handler {
    private static final Logger LOG = LoggerFactory.getLogger(SeccompNotifier.class);
    private static final int EPERM = 1;

    private final Syscalls sys;
    private final SharedFd fd;
    private final String containerId;
    private final SeccompListener listener;
    private final Executor callbacks;
    private final BiFunction<Long, Integer, String> names;

    /**
     * @param names a syscall's name from its audit architecture and number (libseccomp's tables)
     */
    public SeccompNotifier(Syscalls sys, int fd, String containerId, SeccompListener listener, Executor callbacks,
            BiFunction<Long, Integer, String> names) {
        this.sys = sys;
        this.fd = new SharedFd(sys, fd);
        this.containerId = containerId;
        this.listener = listener;
        this.callbacks = callbacks;
        this.names = names;
    }

    /** A {@code struct seccomp_notif}: u64 id, u32 pid, u32 flags, then seccomp_data (i32 nr, u32 arch, u64 ip, u64 args[6]). */
    record Received(long id, SeccompNotification call) {}

    static Received decode(byte[] b, String containerId, BiFunction<Long, Integer, String> names) {
        ByteBuffer in = ByteBuffer.wrap(b).order(ByteOrder.nativeOrder());
        long id = in.getLong(0);
        long pid = in.getInt(8) & 0xffffffffL;
        int nr = in.getInt(16);
        long arch = in.getInt(20) & 0xffffffffL;
        List<Long> args = new ArrayList<>(6);
        for (int i = 0; i < 6; i++) {
            args.add(in.getLong(32 + 8 * i));
        }
        String name = names.apply(arch, nr);
        return new Received(id, new SeccompNotification(containerId, pid, name != null ? name : "syscall#" + nr, nr,
                arch, args));
    }

    @Override
    public boolean onReadable() {
        int f;
        try {
            f = fd.acquire();
        } catch (IOException e) {
            return true;
        }
        int events;
        byte[] buf = null;
        try {
            events = sys.pollEvents(f);
            if ((events & Syscalls.POLLIN) != 0) {
                buf = new byte[Syscalls.SECCOMP_NOTIF_SIZE];
                if (!sys.seccompNotifReceive(f, buf)) {
                    buf = null; // its caller was killed meanwhile
                }
            }
        } finally {
            fd.release();
        }
        if (buf != null) {
            Received r = decode(buf, containerId, names);
            callbacks.execute(() -> answer(r));
            return false;
        }
        if ((events & Syscalls.POLLIN) == 0 && events != 0) {
            fd.close(); // POLLHUP: no process of the container is left under the filter
            return true;
        }
        return false;
    }

    private void answer(Received r) {
        SeccompResponse response;
        try {
            response = listener.onSyscall(r.call());
            if (response == null) {
                throw new NullPointerException("the listener answered null");
            }
        } catch (RuntimeException e) {
            LOG.error("container {}: seccomp listener failed on {}: the syscall fails with EPERM", containerId,
                    r.call().syscall(), e);
            response = SeccompResponse.errno(EPERM);
        }
        int f;
        try {
            f = fd.acquire();
        } catch (IOException e) {
            return; // the filter has no process left: nobody waits for the answer
        }
        try {
            if (response.continues()) {
                sys.seccompNotifRespond(f, r.id(), 0, 0, Syscalls.SECCOMP_USER_NOTIF_FLAG_CONTINUE);
            } else {
                sys.seccompNotifRespond(f, r.id(), 0, -response.error(), 0);
            }
        } catch (RuntimeException e) {
            LOG.error("container {}: answering {} failed", containerId, r.call().syscall(), e);
        } finally {
            fd.release();
        }
    }

    @Override
    public void onFailure(RuntimeException e) {
        fd.close();
    }
}
