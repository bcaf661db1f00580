package dev.berth.core.internal.sys;

/** The wait(2) status macros as small pure functions. */
public final class WaitStatus {
    private WaitStatus() {}

    public static boolean exited(int status) {
        return (status & 0x7f) == 0;
    }

    public static int exitCode(int status) {
        return (status >> 8) & 0xff;
    }

    public static int termSignal(int status) {
        return status & 0x7f;
    }
}
