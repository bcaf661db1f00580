package dev.berth.core.internal.user;

import java.util.List;

/** One line of /etc/group: {@code name:password:gid:member,member}. */
public record GroupEntry(String name, long gid, List<String> members) {}
