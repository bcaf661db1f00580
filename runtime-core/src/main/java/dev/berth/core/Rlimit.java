package dev.berth.core;

import java.util.Locale;

/**
 * A resource limit for the container's processes, as setrlimit(2). {@link #UNLIMITED}
 * stands for RLIM_INFINITY.
 */
public record Rlimit(Type type, long soft, long hard) {

    public static final long UNLIMITED = -1;

    /** Resource names and numbers as in {@code <sys/resource.h>} on Linux. */
    public enum Type {
        CPU, FSIZE, DATA, STACK, CORE, RSS, NPROC, NOFILE, MEMLOCK, AS, LOCKS, SIGPENDING, MSGQUEUE, NICE,
        RTPRIO, RTTIME;

        public int resource() {
            return ordinal();
        }

        /** Parses {@code RLIMIT_NOFILE}, {@code NOFILE} or {@code nofile}. */
        public static Type parse(String name) {
            String n = name.trim().toUpperCase(Locale.ROOT);
            if (n.startsWith("RLIMIT_")) {
                n = n.substring(7);
            }
            try {
                return valueOf(n);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("rlimit: unknown resource \"" + name + "\"");
            }
        }
    }

    public Rlimit {
        if (type == null) {
            throw new IllegalArgumentException("rlimit.type: must not be null");
        }
        if (soft < UNLIMITED || hard < UNLIMITED) {
            throw new IllegalArgumentException("rlimit " + type + ": limits must be >= 0 or UNLIMITED");
        }
        if (hard != UNLIMITED && (soft == UNLIMITED || soft > hard)) {
            throw new IllegalArgumentException("rlimit " + type + ": soft limit " + soft + " exceeds hard limit " + hard);
        }
    }

    public static Rlimit of(Type type, long soft, long hard) {
        return new Rlimit(type, soft, hard);
    }
}
