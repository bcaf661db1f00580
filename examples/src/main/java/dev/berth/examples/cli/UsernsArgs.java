package dev.berth.examples.cli;

import dev.berth.core.IdMapping;
import dev.berth.core.UserNamespace;

/** podman's {@code --userns} spellings that Berth has: {@code host}, {@code auto[:size=N]}, and {@code keep-id}'s refusal. */
final class UsernsArgs {
    private UsernsArgs() {}

    /**
     * {@code host} → no user namespace; {@code auto} → a range of its own, as large as the image
     * needs; {@code auto:size=N} → exactly N ids.
     *
     * @throws IllegalArgumentException one line naming {@code --userns=VALUE}: {@code keep-id} (as
     *     podman refuses it to root), unknown modes and bad {@code auto} options
     */
    static UserNamespace parse(String value) {
        String option = "--userns=" + value;
        int colon = value.indexOf(':');
        String mode = colon < 0 ? value : value.substring(0, colon);
        String options = colon < 0 ? null : value.substring(colon + 1);
        switch (mode) {
            case "host" -> {
                if (options != null) {
                    throw new IllegalArgumentException(option + ": host takes no options");
                }
                return UserNamespace.host();
            }
            case "auto" -> {
                return options == null ? UserNamespace.auto() : auto(option, options);
            }
            case "keep-id" -> throw new IllegalArgumentException(option + ": only supported for rootless Berth");
            default -> throw new IllegalArgumentException(option + ": unknown mode (expected host, auto[:size=N]"
                    + " or keep-id)");
        }
    }

    /** podman's {@code auto:OPT[,OPT...]}; Berth takes {@code size=N}. */
    private static UserNamespace auto(String option, String options) {
        Long size = null;
        for (String o : options.split(",", -1)) {
            int eq = o.indexOf('=');
            String key = eq < 0 ? o : o.substring(0, eq);
            if (!key.equals("size") || eq < 0) {
                throw new IllegalArgumentException(option + ": unknown auto option \"" + o + "\" (expected size=N)");
            }
            if (size != null) {
                throw new IllegalArgumentException(option + ": size given twice");
            }
            try {
                size = Long.parseLong(o.substring(eq + 1));
            } catch (NumberFormatException e) {
                size = -1L;
            }
            if (size < 1 || size >= IdMapping.ID_LIMIT) {
                throw new IllegalArgumentException(option + ": size must be a number from 1 to " + (IdMapping.ID_LIMIT - 1));
            }
        }
        return UserNamespace.auto(size);
    }
}
