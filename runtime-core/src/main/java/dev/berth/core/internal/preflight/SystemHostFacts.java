package dev.berth.core.internal.preflight;

import dev.berth.cgroups.Delegation;
import dev.berth.core.internal.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** The real system's facts. */
public final class SystemHostFacts implements HostFacts {
    /** No file the preflight reads is anywhere near this large; a bigger one is not read. */
    private static final long MAX_READ = 4L << 20;

    private final Syscalls sys;

    public SystemHostFacts(Syscalls sys) {
        this.sys = sys;
    }

    @Override
    public Optional<String> read(Path file) {
        // Not Files.readAllBytes: a proc/sys file says its size is 0, so that reads one byte first,
        // and a sysctl file read on from offset 1 is at its end ("96362" came back as "9").
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes((int) MAX_READ + 1);
            return b.length > MAX_READ ? Optional.empty() : Optional.of(new String(b, StandardCharsets.UTF_8));
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
    }

    @Override
    public boolean exists(Path path) {
        return Files.exists(path);
    }

    @Override
    public boolean isWritable(Path path) {
        return Files.isWritable(path);
    }

    @Override
    public OptionalLong owner(Path path) {
        return Delegation.Host.system().owner(path);
    }

    @Override
    public Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String d : path.split(":")) {
            if (d.isEmpty()) {
                continue;
            }
            Path p = Path.of(d, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    @Override
    public List<String> list(Path dir) {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                out.add(p.getFileName().toString());
            }
        } catch (IOException e) {
            return List.of();
        }
        out.sort(null);
        return out;
    }

    @Override
    public String arch() {
        return System.getProperty("os.arch");
    }

    @Override
    public String java() {
        return System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")";
    }

    @Override
    public Probe probeIdmap(Path storageRoot, Path unshare, boolean root) {
        return new IdmapProbe(sys).run(storageRoot, unshare, root);
    }
}
