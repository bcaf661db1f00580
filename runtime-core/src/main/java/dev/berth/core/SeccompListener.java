package dev.berth.core;

/**
 * Sees the syscalls a container's filter hands over ({@link Seccomp#withListener}) and answers each:
 * {@code SECCOMP_RET_USER_NOTIF} as a Java API. It runs on the runtime's callback executor, never on
 * the reactor thread; the caller stays stopped in its syscall until it returns. A listener that throws
 * fails the syscall with EPERM. When the runtime goes away, pending and later calls fail with ENOSYS
 * (the kernel's answer once nobody listens).
 */
@FunctionalInterface
public interface SeccompListener {
    SeccompResponse onSyscall(SeccompNotification call);
}
