package dev.berth.core;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** Linux capabilities, numbered as in {@code <linux/capability.h>}. */
public enum Capability {
    CHOWN, DAC_OVERRIDE, DAC_READ_SEARCH, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
    LINUX_IMMUTABLE, NET_BIND_SERVICE, NET_BROADCAST, NET_ADMIN, NET_RAW, IPC_LOCK, IPC_OWNER,
    SYS_MODULE, SYS_RAWIO, SYS_CHROOT, SYS_PTRACE, SYS_PACCT, SYS_ADMIN, SYS_BOOT, SYS_NICE,
    SYS_RESOURCE, SYS_TIME, SYS_TTY_CONFIG, MKNOD, LEASE, AUDIT_WRITE, AUDIT_CONTROL, SETFCAP,
    MAC_OVERRIDE, MAC_ADMIN, SYSLOG, WAKE_ALARM, BLOCK_SUSPEND, AUDIT_READ, PERFMON, BPF,
    CHECKPOINT_RESTORE;

    /** Docker's and podman's default set: CapBnd/CapEff 0x00000000a80425fb for root. */
    public static Set<Capability> dockerDefaults() {
        return EnumSet.of(CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID, SETFCAP,
                SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE);
    }

    /** The kernel's bit number. */
    public int bit() {
        return ordinal();
    }

    /** The spelling used by runc, Docker and capabilities(7): {@code CAP_NET_RAW}. */
    public String capName() {
        return "CAP_" + name();
    }

    /** Parses {@code CAP_NET_RAW}, {@code NET_RAW} or {@code net_raw}. */
    public static Capability parse(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        if (n.startsWith("CAP_")) {
            n = n.substring(4);
        }
        try {
            return valueOf(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("capability: unknown capability \"" + name + "\"");
        }
    }

    public static long mask(Set<Capability> caps) {
        long m = 0;
        for (Capability c : caps) {
            m |= 1L << c.bit();
        }
        return m;
    }

    public static Set<Capability> fromMask(long mask) {
        Set<Capability> s = EnumSet.noneOf(Capability.class);
        for (Capability c : values()) {
            if ((mask & (1L << c.bit())) != 0) {
                s.add(c);
            }
        }
        return s;
    }
}
