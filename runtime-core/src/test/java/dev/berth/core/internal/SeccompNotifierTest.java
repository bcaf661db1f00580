package dev.berth.core.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.SeccompNotification;
import dev.berth.core.SeccompResponse;
import dev.berth.core.internal.sys.Syscalls;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

class SeccompNotifierTest {

    /** Hands out one struct seccomp_notif, then reports the filter gone. */
    static final class OneCall extends RecordingSyscalls {
        byte[] pending;
        int events = POLLIN;

        @Override
        public int pollEvents(int fd) {
            calls.add("poll events " + fd);
            return pending != null ? POLLIN : events;
        }

        @Override
        public boolean seccompNotifReceive(int fd, byte[] notif) {
            calls.add("notif recv " + fd);
            System.arraycopy(pending, 0, notif, 0, pending.length);
            pending = null;
            return true;
        }
    }

    static byte[] notif(long id, int pid, int nr, long arch, long... args) {
        ByteBuffer b = ByteBuffer.allocate(Syscalls.SECCOMP_NOTIF_SIZE).order(ByteOrder.nativeOrder());
        b.putLong(0, id).putInt(8, pid).putInt(16, nr).putInt(20, (int) arch);
        for (int i = 0; i < args.length; i++) {
            b.putLong(32 + 8 * i, args[i]);
        }
        return b.array();
    }

    @Test
    void decodesTheCallAndNamesItsSyscall() {
        byte[] b = notif(7, 1234, 165, 0xc000003eL, 1, 2, 3, 4, 5, 6);
        SeccompNotifier.Received r = SeccompNotifier.decode(b, "c1", (arch, nr) -> nr == 165 ? "mount" : null);
        assertThat(r.id()).isEqualTo(7);
        assertThat(r.call()).isEqualTo(new SeccompNotification("c1", 1234, "mount", 165, 0xc000003eL,
                List.of(1L, 2L, 3L, 4L, 5L, 6L)));
        assertThat(SeccompNotifier.decode(b, "c1", (arch, nr) -> null).call().syscall()).isEqualTo("syscall#165");
    }

    @Test
    void theListenerRunsOnTheCallbackExecutorAndItsAnswerIsSent() {
        OneCall sys = new OneCall();
        List<Runnable> queued = new ArrayList<>();
        Executor later = queued::add;
        SeccompNotifier n = new SeccompNotifier(sys, 40, "c1", call -> SeccompResponse.errno(30), later, (a, nr) -> "mount");
        sys.pending = notif(9, 1, 165, 0xc000003eL);
        assertThat(n.onReadable()).isFalse();
        assertThat(sys.calls).noneMatch(c -> c.startsWith("notif send")); // nothing answered on the reactor thread
        queued.forEach(Runnable::run);
        assertThat(sys.calls).contains("notif send 40 9 0 -30 0");

        SeccompNotifier go = new SeccompNotifier(sys, 41, "c1", call -> SeccompResponse.continueSyscall(), Runnable::run,
                (a, nr) -> "mount");
        sys.pending = notif(10, 1, 165, 0xc000003eL);
        go.onReadable();
        assertThat(sys.calls).contains("notif send 41 10 0 0 " + Syscalls.SECCOMP_USER_NOTIF_FLAG_CONTINUE);
    }

    @Test
    void aListenerThatThrowsOrAnswersNullFailsTheCallWithEperm() {
        OneCall sys = new OneCall();
        SeccompNotifier n = new SeccompNotifier(sys, 40, "c1", call -> {
            throw new IllegalStateException("bug");
        }, Runnable::run, (a, nr) -> "mount");
        sys.pending = notif(3, 1, 165, 0xc000003eL);
        n.onReadable();
        assertThat(sys.calls).contains("notif send 40 3 0 -1 0");
        SeccompNotifier nul = new SeccompNotifier(sys, 42, "c1", call -> null, Runnable::run, (a, nr) -> "mount");
        sys.pending = notif(4, 1, 165, 0xc000003eL);
        nul.onReadable();
        assertThat(sys.calls).contains("notif send 42 4 0 -1 0");
    }

    @Test
    void hangUpEndsItAndClosesTheFdAndLateAnswersAreDropped() {
        OneCall sys = new OneCall();
        List<Runnable> queued = new ArrayList<>();
        SeccompNotifier n = new SeccompNotifier(sys, 40, "c1", call -> SeccompResponse.continueSyscall(), queued::add,
                (a, nr) -> "mount");
        sys.pending = notif(5, 1, 165, 0xc000003eL);
        assertThat(n.onReadable()).isFalse();
        sys.events = Syscalls.POLLHUP;
        assertThat(n.onReadable()).isTrue();
        assertThat(sys.calls).contains("close 40");
        queued.forEach(Runnable::run);
        assertThat(sys.calls).noneMatch(c -> c.startsWith("notif send"));
    }
}
