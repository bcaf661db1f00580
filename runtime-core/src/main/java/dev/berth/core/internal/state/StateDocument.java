package dev.berth.core.internal.state;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.berth.core.ContainerStatus;
import dev.berth.core.ExitStatus;
import dev.berth.core.IdMapping;
import dev.berth.core.UserNamespace;
import java.util.List;

/**
 * What {@code <stateRoot>/<id>/state.json} holds (schema {@value #SCHEMA}); docs/architecture.md
 * ("Ids, state and cleanup") has an example. Immutable: each transition writes a new one.
 *
 * @param schema       {@value #SCHEMA}; a reader refuses another
 * @param id           the container id (also the directory's name; a reader checks they agree)
 * @param status       {@code created}, {@code running}, {@code paused} or {@code exited}
 * @param init         the container init (PID 1 inside), once cloned
 * @param monitor      its berth-init monitor, once spawned
 * @param cgroup       the cgroup's directories while it exists (empty once removed, or without one)
 * @param image        the image reference, for a container of an image
 * @param rootfs       the root directory, for a container of a directory
 * @param spec         the spec it was started from
 * @param created      when its init was created (ISO-8601)
 * @param started      when its target was exec'd
 * @param finished     when its target ended
 * @param exit         how it ended
 * @param restartCount how often it was restarted by its restart policy (or an unhealthy action)
 * @param health       its health status ({@code starting}, {@code healthy}, {@code unhealthy}), absent while it
 *                     has no health check
 * @param usage        final resource figures, read just before its cgroup was removed
 * @param control      what another process needs to control it (absent in states written before)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record StateDocument(String schema, String id, String status, ProcessDoc init, ProcessDoc monitor,
        List<String> cgroup, String image, String rootfs, SpecDocument spec, String created, String started,
        String finished, ExitDoc exit, int restartCount, String health, UsageDoc usage, ControlDoc control) {

    public static final String SCHEMA = "berth.state/v1";

    public record ProcessDoc(long pid, long startTime) {
        public static ProcessDoc of(ProcessId p) {
            return new ProcessDoc(p.pid(), p.startTime());
        }

        public ProcessId id() {
            return new ProcessId(pid, startTime);
        }
    }

    /** {@code exitCode} or {@code signal}, as {@link ExitStatus}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ExitDoc(Integer exitCode, Integer signal, boolean oomKilled) {
        public static ExitDoc of(ExitStatus s) {
            return new ExitDoc(s.exited() ? s.exitCode() : null, s.exited() ? null : s.signal(), s.oomKilled());
        }

        public ExitStatus toExitStatus() {
            ExitStatus s = exitCode != null ? ExitStatus.exited(exitCode) : ExitStatus.killed(signal == null ? 0 : signal);
            return s.withOomKilled(oomKilled);
        }
    }

    /**
     * What a process other than its starter needs to control the container.
     *
     * @param stopSignal the signal {@code stop} sends first (the image's StopSignal, or SIGTERM)
     * @param logDir     the directory of its captured output ({@code container.log}, ...), absent without capture
     * @param argv       what its target runs (entrypoint and command, the image's defaults resolved), for
     *                   {@code berth ps}; absent in states written before
     * @param healthCheck the health check its runs have: the spec's, or the image's when the spec has none;
     *                   absent without one (and in states written before), so that a handle adopting the
     *                   container resumes the check its starter ran
     * @param userNamespace the user namespace it runs in, as its start resolved it (for {@code berth inspect});
     *                   absent in states written before, which then say nothing of it
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ControlDoc(int stopSignal, String logDir, List<String> argv, SpecDocument.HealthCheckDoc healthCheck,
            UserNsState userNamespace) {
        public ControlDoc(int stopSignal, String logDir) {
            this(stopSignal, logDir, null, null, null);
        }

        public ControlDoc(int stopSignal, String logDir, List<String> argv) {
            this(stopSignal, logDir, argv, null, null);
        }

        public ControlDoc(int stopSignal, String logDir, List<String> argv, SpecDocument.HealthCheckDoc healthCheck) {
            this(stopSignal, logDir, argv, healthCheck, null);
        }
    }

    /**
     * The user namespace a container runs in, as its start resolved it: {@code host} (none of its own), or
     * {@code mapped} with the maps written for it, {@code CONTAINER:HOST:SIZE} per line (podman inspect's
     * {@code HostConfig.IDMappings}): a rootless container's (0 to the user, 1..N to its subordinate ids), an
     * {@code auto} one's allocated range, or the spec's explicit maps. The spec keeps what was asked
     * ({@code auto}); this keeps what it became.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record UserNsState(String mode, List<String> uidMap, List<String> gidMap) {
        /** Of a resolved namespace: null (or the host's) for none of its own, else a mapped one. */
        public static UserNsState of(UserNamespace resolved) {
            if (resolved == null || resolved.isHost()) {
                return new UserNsState("host", null, null);
            }
            if (resolved.mode() != UserNamespace.Mode.MAPPED) {
                throw new IllegalArgumentException("userNamespace " + resolved + ": not resolved to maps");
            }
            return new UserNsState("mapped", resolved.uidMap().stream().map(IdMapping::toString).toList(),
                    resolved.gidMap().stream().map(IdMapping::toString).toList());
        }

        /**
         * The API value: {@link UserNamespace#host()} or a mapped one.
         *
         * @throws IllegalArgumentException naming the field ({@code control.userNamespace...}) of a file edited into
         *     something else: an unknown mode, maps on the host's, a missing or invalid map
         */
        public UserNamespace toUserNamespace() {
            String field = "control.userNamespace";
            if ("host".equals(mode)) {
                if (uidMap != null || gidMap != null) {
                    throw new IllegalArgumentException(field + ": mode host has no uidMap or gidMap");
                }
                return UserNamespace.host();
            }
            if (!"mapped".equals(mode)) {
                throw new IllegalArgumentException(field + ".mode: " + (mode == null ? "absent"
                        : "\"" + mode + "\"") + " is not host or mapped");
            }
            try {
                return UserNamespace.of(lines(field + ".uidMap", uidMap), lines(field + ".gidMap", gidMap));
            } catch (IllegalArgumentException e) {
                throw e.getMessage().startsWith(field) ? e : new IllegalArgumentException(field + ": " + e.getMessage(),
                        e);
            }
        }

        private static List<IdMapping> lines(String field, List<String> map) {
            if (map == null) {
                throw new IllegalArgumentException(field + ": absent (mode mapped)");
            }
            List<IdMapping> out = new java.util.ArrayList<>();
            for (int i = 0; i < map.size(); i++) {
                try {
                    out.add(IdMapping.parse(String.valueOf(map.get(i))));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(field + "[" + i + "]: " + e.getMessage(), e);
                }
            }
            return out;
        }
    }

    /** CPU time and peak memory at the end, where the cgroup gave them. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record UsageDoc(Long cpuUsageUsec, Long memoryPeakBytes) {
        /** The figures of {@code s} kept once a cgroup is gone; null for null (no cgroup, or its files unreadable). */
        public static UsageDoc of(dev.berth.cgroups.CgroupStats s) {
            if (s == null) {
                return null;
            }
            Long cpu = s.cpu().available() ? s.cpu().usageUsec() : null;
            Long peak = dev.berth.cgroups.CgroupStats.available(s.memory().peak()) ? s.memory().peak() : null;
            return new UsageDoc(cpu, peak);
        }
    }

    public ContainerStatus containerStatus() {
        return ContainerStatus.ofLabel(status);
    }

    public StateDocument withStatus(ContainerStatus s) {
        return new StateDocument(schema, id, s.label(), init, monitor, cgroup, image, rootfs, spec, created, started,
                finished, exit, restartCount, health, usage, control);
    }

    public StateDocument withStarted(String at) {
        return new StateDocument(schema, id, ContainerStatus.RUNNING.label(), init, monitor, cgroup, image, rootfs,
                spec, created, at, finished, exit, restartCount, health, usage, control);
    }

    public StateDocument withExit(ExitStatus s, String at) {
        return new StateDocument(schema, id, ContainerStatus.EXITED.label(), init, monitor, cgroup, image, rootfs,
                spec, created, started, at, ExitDoc.of(s), restartCount, health, usage, control);
    }

    public StateDocument withCgroup(List<String> paths) {
        return new StateDocument(schema, id, status, init, monitor, List.copyOf(paths), image, rootfs, spec, created,
                started, finished, exit, restartCount, health, usage, control);
    }

    public StateDocument withUsage(UsageDoc u) {
        return new StateDocument(schema, id, status, init, monitor, cgroup, image, rootfs, spec, created, started,
                finished, exit, restartCount, health, u, control);
    }

    public StateDocument withHealth(String h) {
        return new StateDocument(schema, id, status, init, monitor, cgroup, image, rootfs, spec, created, started,
                finished, exit, restartCount, h, usage, control);
    }
}
