package dev.berth.core;

import dev.berth.core.internal.linux.LinuxSyscalls;
import dev.berth.core.internal.preflight.PreflightChecks;
import dev.berth.core.internal.preflight.SystemHostFacts;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * What this host offers Berth, and what to do about each missing piece: the report of
 * {@code berth info} and {@link ContainerRuntime#preflight()}. It reads the system (proc, sys, the
 * subordinate id files, PATH) and runs one harmless probe (an idmapped copy of a temporary
 * directory on the storage root's file system, detached and dropped again); it changes nothing.
 * docs/preflight.md lists the checks.
 */
public final class Preflight {

    /** The check names, as {@code berth info} prints them. */
    public static final String ARCH = "arch";
    public static final String JAVA = "java";
    public static final String ROOTLESS = "rootless";
    public static final String KERNEL = "kernel";
    public static final String CGROUPS = "cgroupVersion";
    public static final String CGROUP_DELEGATION = "cgroupDelegation";
    public static final String OVERLAY = "overlay";
    public static final String CNI_PLUGINS = "cniPlugins";
    public static final String PASTA = "pasta";
    public static final String SLIRP4NETNS = "slirp4netns";
    public static final String USER_NAMESPACES = "userNamespaces";
    public static final String IDMAPPED_MOUNTS = "idmappedMounts";
    public static final String SECCOMP = "seccomp";
    public static final String SUBORDINATE_IDS = "subordinateIds";
    public static final String AUTO_SUBORDINATE_IDS = "autoSubordinateIds";

    /** How a check came out. */
    public enum Status {
        /** Present and usable. */
        OK,
        /** Usable with limits, or present in a form Berth only falls back to; the fix says how to do better. */
        WARNING,
        /** Absent: what needs it fails (with its own error); the fix says how to get it. */
        MISSING,
        /** Could not be determined here; {@link Check#found()} says why. */
        UNKNOWN;

        /** Lower case, as printed. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Where {@code berth info} prints a check (podman info's sections). */
    public enum Section {
        HOST, SECURITY;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One check: {@code found} says what the host has (one line), {@code fix} what to do about it
     * (empty when nothing needs doing).
     */
    public record Check(String name, Section section, Status status, String found, Optional<String> fix) {
        public Check {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(section, "section");
            Objects.requireNonNull(status, "status");
            Objects.requireNonNull(found, "found");
            Objects.requireNonNull(fix, "fix");
        }

        public static Check ok(String name, Section section, String found) {
            return new Check(name, section, Status.OK, found, Optional.empty());
        }

        public static Check of(String name, Section section, Status status, String found, String fix) {
            return new Check(name, section, status, found, Optional.ofNullable(fix));
        }
    }

    /** The checks, in a fixed order (host first, then security). */
    public static final class Report {
        private final List<Check> checks;
        private final boolean rootless;

        public Report(List<Check> checks, boolean rootless) {
            this.checks = List.copyOf(checks);
            this.rootless = rootless;
        }

        public List<Check> checks() {
            return checks;
        }

        /** The check of that name ({@link Preflight#KERNEL}, …). */
        public Optional<Check> check(String name) {
            return checks.stream().filter(c -> c.name().equals(name)).findFirst();
        }

        /** The checks of a section, in order. */
        public List<Check> section(Section section) {
            return checks.stream().filter(c -> c.section() == section).toList();
        }

        /** Whether the process runs without root (its effective uid is not 0). */
        public boolean rootless() {
            return rootless;
        }

        /** The checks that are not {@link Status#OK}. */
        public List<Check> problems() {
            return checks.stream().filter(c -> c.status() != Status.OK).toList();
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder();
            for (Check c : checks) {
                b.append(c.name()).append(": ").append(c.status().label()).append(": ").append(c.found());
                c.fix().ifPresent(f -> b.append(" (").append(f).append(')'));
                b.append('\n');
            }
            return b.toString();
        }
    }

    private Preflight() {}

    /** The report for this user's default storage root ({@link DefaultRoots}) and the subordinate id files. */
    public static Report run() {
        return run(DefaultRoots.current().storageRoot(), SubordinateIds.SUBUID, SubordinateIds.SUBGID);
    }

    /**
     * The report for a storage root (where the idmapped-mount probe runs: the nearest existing
     * directory of that path) and subordinate id files.
     */
    public static Report run(Path storageRoot, Path subuid, Path subgid) {
        Objects.requireNonNull(storageRoot, "storageRoot");
        Objects.requireNonNull(subuid, "subuid");
        Objects.requireNonNull(subgid, "subgid");
        return PreflightChecks.run(new SystemHostFacts(new LinuxSyscalls()), storageRoot.toAbsolutePath(), subuid,
                subgid);
    }
}
