package dev.berth.network.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.network.NetworkException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Runs CNI plugin binaries as the CNI specification (1.0.0) has a runtime run them: the command,
 * container id, network namespace, interface name and plugin path in the environment, one plugin
 * configuration on stdin, a result or an error object on stdout. The plugins are separate
 * executables started with {@link ProcessBuilder}; no Java code runs in a forked child.
 */
public final class CniPlugins {
    /** Where Debian's containernetworking-plugins puts them, then the upstream default. */
    public static final List<Path> DEFAULT_DIRS = dev.berth.network.CniDefaults.PLUGIN_DIRS;
    static final ObjectMapper JSON = new ObjectMapper();

    private final List<Path> dirs;
    private final Duration timeout;

    public CniPlugins(List<Path> dirs, Duration timeout) {
        this.dirs = List.copyOf(dirs);
        this.timeout = timeout;
    }

    public List<Path> dirs() {
        return dirs;
    }

    /** The plugin's executable, or an error naming the directories searched and Debian's package. */
    public Path find(String type) throws NetworkException {
        if (!type.matches("[A-Za-z0-9_.-]+")) {
            throw new NetworkException("CNI plugin type \"" + type + "\" is not a plugin name");
        }
        for (Path d : dirs) {
            Path p = d.resolve(type);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        throw new NetworkException("CNI plugin \"" + type + "\" not found in " + searchPath()
                + " (Debian: apt-get install containernetworking-plugins)");
    }

    private String searchPath() {
        return dirs.stream().map(Path::toString).collect(Collectors.joining(":"));
    }

    /** What one invocation is about. */
    public record Invocation(String command, String containerId, String netns, String ifName) {}

    /**
     * Runs the plugin {@code config.type} with {@code config} on stdin.
     *
     * @return the plugin's result (ADD), or null (CHECK, DEL: no output)
     * @throws NetworkException naming the plugin, the command and the container, with the plugin's
     *                          own message, details and code
     */
    public JsonNode run(Invocation inv, ObjectNode config) throws NetworkException {
        String type = config.path("type").asText();
        Path exe = find(type);
        String what = "CNI " + type + " " + inv.command() + " for container " + inv.containerId();
        ProcessBuilder pb = new ProcessBuilder(exe.toString());
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"); // plugins call iptables, ip6tables, ...
        env.put("CNI_COMMAND", inv.command());
        env.put("CNI_CONTAINERID", inv.containerId());
        env.put("CNI_NETNS", inv.netns());
        env.put("CNI_IFNAME", inv.ifName());
        env.put("CNI_PATH", searchPath());
        byte[] in;
        try {
            in = JSON.writeValueAsBytes(config);
        } catch (IOException e) {
            throw new NetworkException(what + ": " + e.getMessage(), e);
        }
        Path out = null;
        Path err = null;
        Process p = null;
        try {
            // files, not pipes: nothing to drain on other threads, and a plugin that hangs is timed out
            out = Files.createTempFile("berth-cni-out", ".json"); // 0600
            err = Files.createTempFile("berth-cni-err", ".txt");
            p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            try (OutputStream stdin = p.getOutputStream()) {
                stdin.write(in);
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new NetworkException(what + ": no answer within " + timeout.toSeconds() + " s");
            }
            String stdout = Files.readString(out, StandardCharsets.UTF_8).trim();
            String stderr = Files.readString(err, StandardCharsets.UTF_8).trim();
            if (p.exitValue() != 0) {
                throw failure(what, p.exitValue(), stdout, stderr);
            }
            if (!inv.command().equals("ADD")) {
                return null;
            }
            JsonNode result;
            try {
                result = JSON.readTree(stdout);
            } catch (IOException e) {
                throw new NetworkException(what + ": its result is not JSON: " + e.getMessage(), e);
            }
            if (result == null || !result.isObject()) {
                throw new NetworkException(what + ": no result object on stdout: \"" + stdout + "\"");
            }
            return result;
        } catch (NetworkException e) {
            throw e;
        } catch (IOException e) {
            throw new NetworkException(what + ": " + exe + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetworkException(what + ": interrupted", e);
        } finally {
            if (p != null) {
                p.destroyForcibly();
            }
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path f) {
        if (f != null) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // a temporary file of java.io.tmpdir
            }
        }
    }

    /** The plugin's error object ({@code code}, {@code msg}, {@code details}) as one line, or its stderr. */
    static NetworkException failure(String what, int exit, String stdout, String stderr) {
        try {
            JsonNode e = stdout.isEmpty() ? null : JSON.readTree(stdout);
            if (e != null && e.has("msg")) {
                String details = e.path("details").asText("");
                int code = e.path("code").asInt(0);
                return new NetworkException(what + ": " + e.get("msg").asText()
                        + (details.isEmpty() ? "" : ": " + details) + " (CNI error " + code + ")", code, null);
            }
        } catch (IOException ignored) {
            // not JSON: the text itself below
        }
        String text = !stderr.isEmpty() ? stderr : stdout;
        return new NetworkException(what + ": exit " + exit + (text.isEmpty() ? "" : ": " + text.replace('\n', ' ')));
    }
}
