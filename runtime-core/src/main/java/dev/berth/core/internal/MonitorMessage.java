package dev.berth.core.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A packet from the monitor on the control socket: {@code C} cloned(pid), {@code X}
 * exec'd, {@code E} error(op, errno, operand), {@code K} ended during setup (wait status),
 * {@code W} wait status, {@code S} the init waits at a sync op (its index).
 */
public record MonitorMessage(char type, int value, int errno, String operand) {

    public static MonitorMessage decode(byte[] buf, int len) {
        if (len <= 0) {
            throw new IllegalArgumentException("empty monitor message");
        }
        ByteBuffer b = ByteBuffer.wrap(buf, 0, len).order(ByteOrder.LITTLE_ENDIAN);
        char type = (char) b.get();
        return switch (type) {
            case 'C', 'W', 'K', 'S' -> {
                requireLength(type, len, 5);
                yield new MonitorMessage(type, b.getInt(), 0, "");
            }
            case 'X' -> new MonitorMessage(type, 0, 0, "");
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
