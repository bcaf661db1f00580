package dev.berth.core;

import dev.berth.core.internal.seccomp.ProfileParser;
import dev.berth.core.internal.seccomp.SeccompProfile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The seccomp filter of a container: {@link #defaultProfile()} (Docker's and podman's default: an
 * allowlist of syscalls by name, with their argument conditions and capability-dependent groups),
 * {@link #unconfined()}, or a profile in the OCI / Docker JSON format ({@link #profile(Path)}).
 * A profile is parsed and validated here, when the value is made; it is compiled to BPF (libseccomp)
 * for the container's capabilities when the container starts, and the container's init loads it
 * as its last step before the exec.
 */
public final class Seccomp {

    private static final String DEFAULT_RESOURCE = "/dev/berth/core/seccomp/default.json";
    private static final Seccomp UNCONFINED = new Seccomp("unconfined", null);
    private static volatile Seccomp defaults;

    /**
     * Syscalls the init itself makes after loading the filter (it sends the listener's fd, closes it,
     * reports the exec, allocates, execs): handed to a listener that has not got the fd yet, they would
     * stop the container for good.
     */
    private static final Set<String> INIT_NEEDS = Set.of("sendmsg", "close", "write", "brk", "mmap", "munmap",
            "execve", "execveat", "exit", "exit_group", "rt_sigreturn", "rt_sigprocmask");

    private final String name;
    private final SeccompProfile profile;
    private final String source; // a custom profile's JSON text as given; null for the default and unconfined
    private final Set<String> notified;
    private final SeccompListener listener;

    private Seccomp(String name, SeccompProfile profile) {
        this(name, profile, null, Set.of(), null);
    }

    private Seccomp(String name, SeccompProfile profile, String source, Set<String> notified, SeccompListener listener) {
        this.name = name;
        this.profile = profile;
        this.source = source;
        this.notified = notified;
        this.listener = listener;
    }

    /**
     * This filter with {@code syscalls} handed to {@code listener} ({@code SECCOMP_RET_USER_NOTIF})
     * instead of what the profile says about them: the listener is their policy. The container needs
     * {@link ContainerSpec.Builder#noNewPrivileges(boolean) no_new_privs} (the default).
     *
     * @throws IllegalArgumentException for an unconfined value, an empty set, a name that is not a
     *     syscall's, or one the init needs after loading the filter ({@code sendmsg}, {@code execve}, ...)
     */
    public Seccomp withListener(Set<String> syscalls, SeccompListener listener) {
        Objects.requireNonNull(listener, "listener");
        if (profile == null) {
            throw new IllegalArgumentException("seccomp: an unconfined container has no filter to notify from");
        }
        if (syscalls.isEmpty()) {
            throw new IllegalArgumentException("seccomp listener: no syscall named");
        }
        Set<String> names = new TreeSet<>();
        for (String s : syscalls) {
            if (!s.matches("[a-z_][a-z0-9_]*")) {
                throw new IllegalArgumentException("seccomp listener: not a syscall name: \"" + s + "\"");
            }
            if (INIT_NEEDS.contains(s)) {
                throw new IllegalArgumentException("seccomp listener: " + s + " cannot be notified: the container's "
                        + "init makes it after loading the filter, before the listener has the filter's fd");
            }
            names.add(s);
        }
        return new Seccomp(name, profile, source, Set.copyOf(names), listener);
    }

    /** The syscalls handed to the listener; empty without one. */
    public Set<String> notifiedSyscalls() {
        return notified;
    }

    public Optional<SeccompListener> listener() {
        return Optional.ofNullable(listener);
    }

    /** The default profile, which every container gets unless its spec says otherwise. */
    public static Seccomp defaultProfile() {
        Seccomp d = defaults;
        if (d == null) {
            try (InputStream in = Seccomp.class.getResourceAsStream(DEFAULT_RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("seccomp: " + DEFAULT_RESOURCE + " is missing from the jar");
                }
                d = new Seccomp("default", ProfileParser.parse("default", new String(in.readAllBytes(),
                        StandardCharsets.UTF_8)));
            } catch (IOException e) {
                throw new UncheckedIOException("seccomp: reading " + DEFAULT_RESOURCE, e);
            }
            defaults = d;
        }
        return d;
    }

    /** No filter at all (Docker's {@code --security-opt seccomp=unconfined}). */
    public static Seccomp unconfined() {
        return UNCONFINED;
    }

    /**
     * A profile file in the OCI / Docker JSON format.
     *
     * @throws IllegalArgumentException naming the file and the field when it is not a valid profile
     * @throws UncheckedIOException when it cannot be read
     */
    public static Seccomp profile(Path file) {
        String json;
        try {
            json = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("seccomp profile " + file + ": " + e.getMessage(), e);
        }
        return profile(String.valueOf(file.getFileName()), json);
    }

    /**
     * A profile given as JSON text.
     *
     * @param name what errors call it (a file name, say)
     * @throws IllegalArgumentException naming the profile and the field when it is not a valid profile
     */
    public static Seccomp profile(String name, String json) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(json, "json");
        return new Seccomp(name, ProfileParser.parse(name, json), json, Set.of(), null);
    }

    /**
     * A custom profile's JSON text, as given; empty for the default profile and for unconfined. What
     * a container's persisted spec keeps of its filter (a listener, a Java object, is not kept).
     */
    public Optional<String> profileJson() {
        return Optional.ofNullable(source);
    }

    /** Whether a filter applies. */
    public boolean isConfined() {
        return profile != null;
    }

    /** {@code default}, {@code unconfined}, or the profile's name. */
    public String name() {
        return name;
    }

    SeccompProfile parsed() {
        return profile;
    }

    @Override
    public String toString() {
        return "Seccomp[" + name + "]";
    }
}
