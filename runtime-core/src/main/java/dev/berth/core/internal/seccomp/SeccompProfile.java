package dev.berth.core.internal.seccomp;

import java.util.List;
import java.util.Map;

/**
 * A seccomp profile in the OCI runtime-spec / Docker JSON format, parsed and validated
 * ({@link ProfileParser}); {@link ProfileResolver} turns it into the filter for one container.
 *
 * @param name          where it came from, for errors ({@code x.json}, {@code default})
 * @param archMap       Docker's {@code archMap}: a native architecture and the ones it also runs
 * @param flags         {@code SECCOMP_FILTER_FLAG_*} names of the OCI spec
 */
public record SeccompProfile(String name, SeccompAction defaultAction, Integer defaultErrnoRet,
        List<String> architectures, Map<String, List<String>> archMap, List<String> flags,
        List<SyscallRule> syscalls) {
    public SeccompProfile {
        architectures = List.copyOf(architectures);
        archMap = Map.copyOf(archMap);
        flags = List.copyOf(flags);
        syscalls = List.copyOf(syscalls);
    }
}
