package dev.berth.core.internal.user;

import java.util.List;

/** The numeric identity the target runs as, plus the home directory for $HOME. */
public record ResolvedUser(long uid, long gid, List<Long> additionalGids, String home) {
    public ResolvedUser {
        additionalGids = List.copyOf(additionalGids);
    }
}
