package dev.berth.core.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A packet from the monitor on the control socket: {@code C} cloned(pid), {@code X}
 * exec'd, {@code E} error(op, errno, operand), {@code K} ended during setup (wait status),
 * {@code W} wait status, {@code S} the init waits at a sync op (its index), {@code T} the
 * container's pty master (its value: the fd the packet passed, SCM_RIGHTS), {@code N} the listener fd of
 * the container's seccomp filter (likewise).
 */
public record MonitorMessage(char type, int value, int errno, String operand) {

    /** Of a {@code C}: the monitor's own pid, 0 when it did not say. */
    public long monitorPid() {
        return errno & 0xffffffffL;
    }

    public static MonitorMessage decode(byte[] buf, int len) {
        return decode(buf, len, -1);
    }

    /**
     * @param fd the fd the packet passed along, or -1; only {@code T} and {@code N} carry one, and they must. On
     *           an exception the caller still owns (and closes) it.
     */
    public static MonitorMessage decode(byte[] buf, int len, int fd) {
        if (len <= 0) {
            throw new IllegalArgumentException("empty monitor message");
        }
        boolean passes = buf[0] == 'T' || buf[0] == 'N';
        if (passes != (fd >= 0)) {
            throw new IllegalArgumentException(fd >= 0 ? "monitor message '" + (char) buf[0] + "' passed an fd"
                    : buf[0] == 'T' ? "monitor message 'T' without the pty master it passes"
                    : "monitor message 'N' without the seccomp listener fd it passes");
        }
        ByteBuffer b = ByteBuffer.wrap(buf, 0, len).order(ByteOrder.LITTLE_ENDIAN);
        char type = (char) b.get();
        return switch (type) {
            case 'C' -> {
                // the init's pid, and (a berth-init that sends it) the monitor's own: not the spawned process's
                // when it detached
                requireLength(type, len, 5);
                int pid = b.getInt();
                yield new MonitorMessage(type, pid, len >= 9 ? b.getInt() : 0, "");
            }
            case 'W', 'K', 'S' -> {
                requireLength(type, len, 5);
                yield new MonitorMessage(type, b.getInt(), 0, "");
            }
            case 'X' -> new MonitorMessage(type, 0, 0, "");
            case 'T', 'N' -> new MonitorMessage(type, fd, 0, "");
            case 'E' -> {
                requireLength(type, len, 9);
                int op = b.getInt();
                int errno = b.getInt();
                yield new MonitorMessage(type, op, errno, new String(buf, 9, len - 9, StandardCharsets.UTF_8));
            }
            default -> throw new IllegalArgumentException("unknown monitor message '" + type + "'");
        };
    }

    private static void requireLength(char type, int len, int min) {
        if (len < min) {
            throw new IllegalArgumentException("short monitor message '" + type + "': " + len + " bytes");
        }
    }
}
