package dev.berth.core.internal.state;

import dev.berth.linux.internal.ProcStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process as the state file names it: its pid together with its start time (field 22 of
 * {@code /proc/PID/stat}, clock ticks since boot), crun's {@code process_start_time}. A pid alone
 * could be a successor's once the process is gone; the pair cannot, as long as the system has not
 * rebooted (and the state root, {@code /run}, does not survive a reboot).
 *
 * @param pid       the host pid
 * @param startTime its start time, or -1 when it could not be read
 */
public record ProcessId(long pid, long startTime) {

    /** The process with {@code pid} now (start time -1 when there is none). */
    public static ProcessId of(long pid) {
        return new ProcessId(pid, startTime(pid));
    }

    /**
     * Whether {@code pid} still names this process and it has not ended (false once it ended, even
     * while its zombie waits for its parent, or when the pid was reused).
     */
    public boolean isAlive() {
        return startTime >= 0 && startTime(pid) == startTime && !hasEnded(pid);
    }

    /** Whether the process {@code pid} is a zombie (ended, not reaped yet) or gone. */
    public static boolean hasEnded(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X';
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    /** Field 22 of {@code /proc/PID/stat}, or -1 when there is no such process. */
    public static long startTime(long pid) {
        if (pid <= 0) {
            return -1;
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // the command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[19]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Whether {@code pid} runs Berth's init: its executable is the sealed memfd {@code berth-init}
     * ({@code /memfd:berth-init (deleted)}). A start time can be read by anyone for any process, so it
     * proves nothing about a state file's author; this does, for the monitors and inits Berth spawns.
     */
    public static boolean runsBerthInit(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/" + pid + "/exe")).toString().startsWith("/memfd:berth-init");
        } catch (java.nio.file.AccessDeniedException e) {
            return rootlessBerthInit(pid);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Rootless, a container's init is closed to its own user's {@code /proc/PID/exe} (non-dumpable, its memory the
     * host user namespace's): it counts as Berth's init when it is this user's process (real uid: nobody else's is
     * ever taken for it) and its command line is the one the Launcher spawns ({@code berth-init FD}). The state
     * file naming it is private to the user, who alone could point it at another process of its own.
     */
    static boolean rootlessBerthInit(long pid) {
        try {
            long self = ProcStatus.uidsOf(ProcStatus.SELF).real();
            long owner = ProcStatus.uidsOf(Path.of("/proc/" + pid + "/status")).real();
            String argv0 = Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0", 2)[0];
            return self != 0 && self == owner && argv0.equals("berth-init");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
