package dev.berth.network;

import java.nio.file.Path;
import java.util.List;

/**
 * Where Berth looks for CNI plugins by default, and which its networks chain: constants only, so
 * that a report (the preflight) can name them without loading the network machinery.
 */
public final class CniDefaults {
    /** The plugin directories, in order: Debian's, then upstream's. */
    public static final List<Path> PLUGIN_DIRS = List.of(Path.of("/usr/lib/cni"), Path.of("/opt/cni/bin"));
    /** The plugins a bridge network's chain runs. */
    public static final List<String> PLUGINS = List.of("bridge", "host-local", "portmap", "firewall");

    private CniDefaults() {}
}
