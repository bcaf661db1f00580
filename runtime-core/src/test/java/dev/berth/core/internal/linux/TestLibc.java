package dev.berth.core.internal.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/** libc calls only tests need (the JNA of tests, beside the production one). */
public final class TestLibc {
    private static final int F_DUPFD = 0;

    interface C extends Library {
        int fcntl(int fd, int cmd, int arg) throws LastErrorException;
    }

    private static final C LIBC = Native.load("c", C.class);

    private TestLibc() {}

    /** A duplicate of {@code fd} at the lowest free number from {@code min} on, without O_CLOEXEC. */
    public static int dupAtLeast(int fd, int min) {
        return LIBC.fcntl(fd, F_DUPFD, min);
    }
}
