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

    private final String name;
    private final SeccompProfile profile;

    private Seccomp(String name, SeccompProfile profile) {
        this.name = name;
        this.profile = profile;
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
        return new Seccomp(name, ProfileParser.parse(name, json));
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
