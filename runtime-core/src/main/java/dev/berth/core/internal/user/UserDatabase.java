package dev.berth.core.internal.user;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Parses /etc/passwd and /etc/group text from an untrusted root filesystem and
 * resolves {@code user[:group]} the way Docker and runc do. Malformed lines are
 * skipped as libc does; nothing in the files can make parsing fail or run long.
 */
public final class UserDatabase {

    /** The largest id the kernel accepts ((uid_t) -1 is reserved). */
    static final long MAX_ID = 0xfffffffeL;
    private static final int MAX_LINE = 64 * 1024;

    private final List<PasswdEntry> passwd;
    private final List<GroupEntry> groups;

    private UserDatabase(List<PasswdEntry> passwd, List<GroupEntry> groups) {
        this.passwd = passwd;
        this.groups = groups;
    }

    /** Either text may be empty when the root has no such file. */
    public static UserDatabase parse(String passwdText, String groupText) {
        return new UserDatabase(parsePasswd(passwdText), parseGroup(groupText));
    }

    static List<PasswdEntry> parsePasswd(String text) {
        List<PasswdEntry> out = new ArrayList<>();
        for (String line : lines(text)) {
            String[] f = line.split(":", -1);
            if (f.length < 7 || f[0].isEmpty()) {
                continue;
            }
            long uid = parseId(f[2]);
            long gid = parseId(f[3]);
            if (uid < 0 || gid < 0) {
                continue;
            }
            out.add(new PasswdEntry(f[0], uid, gid, f[5]));
        }
        return out;
    }

    static List<GroupEntry> parseGroup(String text) {
        List<GroupEntry> out = new ArrayList<>();
        for (String line : lines(text)) {
            String[] f = line.split(":", -1);
            if (f.length < 4 || f[0].isEmpty()) {
                continue;
            }
            long gid = parseId(f[2]);
            if (gid < 0) {
                continue;
            }
            List<String> members = new ArrayList<>();
            for (String m : f[3].split(",")) {
                if (!m.isBlank()) {
                    members.add(m.trim());
                }
            }
            out.add(new GroupEntry(f[0], gid, members));
        }
        return out;
    }

    private static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.length() > MAX_LINE || line.startsWith("#") || line.indexOf('\0') >= 0) {
                continue;
            }
            out.add(line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
        }
        return out;
    }

    /** A decimal id in [0, MAX_ID], or -1. */
    static long parseId(String s) {
        if (s.isEmpty() || s.length() > 10) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v <= MAX_ID ? v : -1;
    }

    public Optional<PasswdEntry> userByName(String name) {
        return passwd.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    public Optional<PasswdEntry> userById(long uid) {
        return passwd.stream().filter(p -> p.uid() == uid).findFirst();
    }

    public Optional<GroupEntry> groupByName(String name) {
        return groups.stream().filter(g -> g.name().equals(name)).findFirst();
    }

    /**
     * Resolves {@code user[:group]}. A numeric user absent from passwd runs with gid 0
     * and home "/" (Docker's behaviour); a named one must exist. Supplementary groups
     * are the groups that list the user's name as a member.
     *
     * @throws IllegalArgumentException naming the user or group that does not resolve
     */
    public ResolvedUser resolve(String spec) {
        String[] parts = spec.split(":", 2);
        String userPart = parts[0];
        long uid = parseId(userPart);
        Optional<PasswdEntry> entry;
        if (uid >= 0) {
            entry = userById(uid);
        } else {
            entry = userByName(userPart);
            if (entry.isEmpty()) {
                throw new IllegalArgumentException("user \"" + userPart + "\": no such user in /etc/passwd");
            }
            uid = entry.get().uid();
        }
        long gid = entry.map(PasswdEntry::gid).orElse(0L);
        boolean explicitGroup = parts.length == 2;
        if (explicitGroup) {
            long g = parseId(parts[1]);
            if (g >= 0) {
                gid = g;
            } else {
                gid = groupByName(parts[1])
                        .orElseThrow(() -> new IllegalArgumentException(
                                "group \"" + parts[1] + "\": no such group in /etc/group"))
                        .gid();
            }
        }
        Set<Long> extra = new LinkedHashSet<>();
        if (entry.isPresent() && !explicitGroup) {
            String name = entry.get().name();
            for (GroupEntry g : groups) {
                if (g.members().contains(name) && g.gid() != gid) {
                    extra.add(g.gid());
                }
            }
        }
        String home = entry.map(PasswdEntry::home).filter(h -> h.startsWith("/")).orElse("/");
        return new ResolvedUser(uid, gid, new ArrayList<>(extra), home);
    }
}
