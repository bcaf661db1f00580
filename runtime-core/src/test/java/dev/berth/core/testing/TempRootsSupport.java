package dev.berth.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Container;
import dev.berth.core.ContainerInfo;
import dev.berth.core.ContainerRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared set-up of privileged tests whose containers outlive the runtime that started them (detached
 * ones), so that each test makes several runtimes on the same roots: fresh state and storage roots and
 * a busybox rootfs per test, container ids unique to the run, every runtime closed after the test, and
 * then every container on the roots removed and nothing left of them (state and container directories,
 * the cgroup of every id handed out), whether the test passed or not.
 */
public abstract class TempRootsSupport {
    @TempDir
    protected Path tmp;
    protected Path stateRoot;
    protected Path storageRoot;
    protected Path rootfs;
    /** Every runtime {@link #runtime} made: closed after each test. */
    protected final List<ContainerRuntime> runtimes = new ArrayList<>();
    /** Cgroup names are the host's: ids unique to this run, so that no other test (or run) shares one. */
    private final String run;
    private final Duration settle;
    private final Set<String> ids = new LinkedHashSet<>();

    /**
     * @param idPrefix a few letters naming the test class in its ids
     * @param settle   zero: the containers left are removed (force); otherwise they are killed first, and
     *                 removed once this long has passed (an exit command at work finds the stop and leaves
     *                 the container exited, rather than restarting it)
     */
    protected TempRootsSupport(String idPrefix, Duration settle) {
        this.run = idPrefix + Long.toHexString(System.nanoTime() & 0xffffff);
        this.settle = settle;
    }

    /** A container id of this run; its cgroup is checked to be gone after the test. */
    protected String id(String name) {
        String id = run + "-" + name;
        ids.add(id);
        return id;
    }

    @BeforeEach
    void roots() throws IOException {
        stateRoot = tmp.resolve("state");
        storageRoot = tmp.resolve("storage");
        rootfs = BusyboxRootfs.at(tmp.resolve("busybox"));
    }

    /** A runtime on the test's roots, closed after the test. */
    protected ContainerRuntime runtime() {
        return runtime(ContainerRuntime.builder());
    }

    /** As above, from {@code b} (the roots set here). */
    protected ContainerRuntime runtime(ContainerRuntime.Builder b) {
        ContainerRuntime r = b.stateRoot(stateRoot).storageRoot(storageRoot).build();
        runtimes.add(r);
        return r;
    }

    /** Called after the test, once its runtimes are closed and before its containers are removed. */
    protected void runtimesClosed() {}

    @AfterEach
    void nothingIsLeft() throws Exception {
        runtimes.forEach(ContainerRuntime::close);
        runtimesClosed();
        try (ContainerRuntime r = runtime()) {
            if (!settle.isZero()) {
                for (ContainerInfo i : r.list()) {
                    r.container(i.id()).ifPresent(Container::kill);
                }
                Thread.sleep(settle.toMillis());
            }
            for (ContainerInfo i : r.list()) {
                r.remove(i.id(), true);
            }
            for (String id : ids) {
                assertThat(r.cgroupDriver().flatMap(d -> d.open(id))).as("cgroup of " + id).isEmpty();
            }
        }
        if (Files.exists(stateRoot)) { // else no runtime made one
            try (Stream<Path> s = Files.list(stateRoot)) {
                assertThat(s.filter(p -> !p.getFileName().toString().startsWith(".")).toList())
                        .as("state directories left").isEmpty();
            }
        }
        Path containers = storageRoot.resolve("containers");
        if (Files.exists(containers)) {
            try (Stream<Path> s = Files.list(containers)) {
                assertThat(s.toList()).as("container directories left").isEmpty();
            }
        }
    }
}
