package dev.berth.core.internal.user;

/** One line of /etc/passwd: {@code name:password:uid:gid:gecos:home:shell}. */
public record PasswdEntry(String name, long uid, long gid, String home) {}
