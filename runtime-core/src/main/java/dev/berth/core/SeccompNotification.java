package dev.berth.core;

import java.util.List;

/**
 * A syscall of a container that its seccomp filter handed to the {@link SeccompListener}: the calling
 * process is stopped in the syscall until the listener answers.
 *
 * @param containerId the container's id
 * @param pid         the caller, as the host sees it (its {@code /proc/PID} may be read meanwhile)
 * @param syscall     the syscall's name ({@code mount}), or {@code syscall#N} for one libseccomp cannot name
 * @param number      the syscall's number on {@code arch}
 * @param arch        the caller's audit architecture ({@code AUDIT_ARCH_X86_64}, ...)
 * @param arguments   the six raw arguments (pointers are addresses in the caller's memory)
 */
public record SeccompNotification(String containerId, long pid, String syscall, int number, long arch,
        List<Long> arguments) {
    public SeccompNotification {
        arguments = List.copyOf(arguments);
    }
}
