package dev.berth.examples.cli;

import dev.berth.core.Mount;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Docker's spellings of mounts ({@code -v}, {@code --mount}, {@code --tmpfs}) as {@link Mount}s. */
final class MountArgs {
    private MountArgs() {}

    /**
     * {@code -v HOST:CTR[:OPTS]} (a bind: the source is an absolute path) or {@code -v NAME:CTR[:OPTS]}
     * (a named volume); options comma-separated ({@code ro}, {@code rw}, {@code z}, {@code nocopy},
     * {@code rslave}, ...).
     */
    static Mount volume(String spec) {
        String[] p = spec.split(":", -1);
        if (p.length == 1) {
            throw new IllegalArgumentException("anonymous volumes are not supported: name one, NAME:" + spec);
        }
        if (p.length > 3 || p[0].isEmpty() || p[1].isEmpty()) {
            throw new IllegalArgumentException("expected HOST-DIR:CONTAINER-DIR[:OPTIONS] or NAME:CONTAINER-DIR[:OPTIONS]");
        }
        String[] options = p.length == 3 && !p[2].isEmpty() ? p[2].split(",") : new String[0];
        return p[0].startsWith("/") ? Mount.bind(Path.of(p[0]), p[1], options) : Mount.volume(p[0], p[1], options);
    }

    /** {@code --tmpfs CTR[:OPTS]}, e.g. {@code /run:size=64m,mode=1777}. */
    static Mount tmpfs(String spec) {
        int colon = spec.indexOf(':');
        String dst = colon < 0 ? spec : spec.substring(0, colon);
        String[] options = colon < 0 || colon == spec.length() - 1 ? new String[0] : spec.substring(colon + 1).split(",");
        return Mount.tmpfs(dst, options);
    }

    /**
     * {@code --mount type=bind|volume|tmpfs,source=...,target=...[,readonly][,bind-propagation=...]
     * [,bind-recursive=enabled|disabled][,volume-nocopy][,tmpfs-size=...][,tmpfs-mode=...]}; the type
     * defaults to volume, as docker's.
     */
    static Mount mount(String spec) {
        String type = "volume";
        String source = "";
        String target = null;
        List<String> options = new ArrayList<>();
        for (String field : spec.split(",")) {
            int eq = field.indexOf('=');
            String key = (eq < 0 ? field : field.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
            String value = eq < 0 ? null : field.substring(eq + 1);
            switch (key) {
                case "type" -> type = required(key, value);
                case "source", "src" -> source = required(key, value);
                case "target", "destination", "dst" -> target = required(key, value);
                case "readonly", "ro" -> {
                    if (value == null || bool(key, value)) {
                        options.add("ro");
                    }
                }
                case "bind-propagation" -> options.add(required(key, value));
                case "bind-recursive" -> options.add(switch (required(key, value)) {
                    case "enabled" -> "rbind";
                    case "disabled" -> "bind";
                    default -> throw new IllegalArgumentException("bind-recursive: expected enabled or disabled, got \""
                            + value + "\"");
                });
                case "volume-nocopy" -> {
                    if (value == null || bool(key, value)) {
                        options.add("nocopy");
                    }
                }
                case "tmpfs-size" -> options.add("size=" + Units.size(required(key, value)));
                case "tmpfs-mode" -> options.add("mode=" + required(key, value));
                default -> throw new IllegalArgumentException("unknown field \"" + key + "\"");
            }
        }
        if (target == null) {
            throw new IllegalArgumentException("target is required");
        }
        String[] opts = options.toArray(new String[0]);
        return switch (type) {
            case "bind" -> {
                if (source.isEmpty()) {
                    throw new IllegalArgumentException("source is required for a bind mount");
                }
                yield Mount.bind(Path.of(source), target, opts);
            }
            case "volume" -> {
                if (source.isEmpty()) {
                    throw new IllegalArgumentException("anonymous volumes are not supported: give a source");
                }
                yield Mount.volume(source, target, opts);
            }
            case "tmpfs" -> Mount.tmpfs(target, opts);
            default -> throw new IllegalArgumentException("type: expected bind, volume or tmpfs, got \"" + type + "\""
                    + (Arrays.asList("npipe", "cluster", "image").contains(type) ? " (not on this runtime)" : ""));
        };
    }

    private static String required(String key, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(key + ": a value is required");
        }
        return value;
    }

    private static boolean bool(String key, String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw new IllegalArgumentException(key + ": expected true or false, got \"" + value + "\"");
        };
    }
}
