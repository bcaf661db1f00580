package dev.berth.core;

import java.util.OptionalInt;

/**
 * How a container's target process ended: an exit code, or the signal that killed it.
 *
 * @param exitCode the exit code, or -1 when a signal ended the process
 * @param signal   the terminating signal, or 0 when the process exited
 * @param oomKilled whether the kernel's OOM killer acted in the container's cgroup
 */
public record ExitStatus(int exitCode, int signal, boolean oomKilled) {

    public ExitStatus {
        if ((exitCode < 0) == (signal <= 0)) {
            throw new IllegalArgumentException("exit status: exactly one of exitCode and signal must be set");
        }
    }

    public static ExitStatus exited(int code) {
        return new ExitStatus(code, 0, false);
    }

    public static ExitStatus killed(int signal) {
        return new ExitStatus(-1, signal, false);
    }

    public ExitStatus withOomKilled(boolean oom) {
        return new ExitStatus(exitCode, signal, oom);
    }

    public boolean exited() {
        return signal == 0;
    }

    public OptionalInt terminatingSignal() {
        return signal == 0 ? OptionalInt.empty() : OptionalInt.of(signal);
    }

    /** The shell convention: the exit code, or 128 + the signal number. */
    public int shellCode() {
        return exited() ? exitCode : 128 + signal;
    }

    @Override
    public String toString() {
        String s = exited() ? "exited " + exitCode : "killed by signal " + signal;
        return oomKilled ? s + " (OOM killed)" : s;
    }
}
