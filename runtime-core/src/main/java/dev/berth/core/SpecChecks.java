package dev.berth.core;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The validation {@link ContainerSpec} and {@link ExecSpec} share: argument lists, environments, users. */
final class SpecChecks {
    /** An environment variable's name: anything but '=' and NUL. */
    static final Pattern ENV_KEY = Pattern.compile("[^=\\x00]+");
    /** {@code user[:group]}, each a name or a number. */
    static final Pattern USER = Pattern.compile("[A-Za-z0-9_.][A-Za-z0-9_.@-]*(:[A-Za-z0-9_.][A-Za-z0-9_.@-]*)?");

    private SpecChecks() {}

    /** Every argument non-null and free of NUL bytes (execve could not pass it), named by its index. */
    static void checkArgv(String field, List<String> argv) {
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a == null || a.indexOf('\0') >= 0) {
                throw new IllegalArgumentException(field + "[" + i + "]: must be non-null without NUL bytes");
            }
        }
    }

    /** Names without '=' or NUL, values non-null without NUL, named by the variable. */
    static void checkEnv(Map<String, String> env) {
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getKey() == null || !ENV_KEY.matcher(e.getKey()).matches()) {
                throw new IllegalArgumentException("env: invalid variable name \"" + e.getKey() + "\"");
            }
            if (e.getValue() == null || e.getValue().indexOf('\0') >= 0) {
                throw new IllegalArgumentException("env." + e.getKey() + ": value must be non-null without NUL bytes");
            }
        }
    }
}
