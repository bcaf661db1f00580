package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cgroups.Delegation;
import dev.berth.cgroups.Resources;
import dev.berth.core.Preflight.Check;
import dev.berth.core.Preflight.Status;
import dev.berth.core.testing.TempRootsSupport;
import dev.berth.testing.Preconditions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Cgroups of rootless Berth on a host without a delegated cgroup v2 subtree (this project's hybrid
 * machines, as the unprivileged user of .ci/rootless-suite.sh): a spec asking for limits is refused
 * in one line naming the option, the uid and what was found, before anything is made; the preflight
 * reports the same finding.
 */
class CgroupRootlessIT extends TempRootsSupport {
    CgroupRootlessIT() {
        super("rc", Duration.ZERO);
    }

    private ContainerSpec.Builder shell(String script) {
        return ContainerSpec.builder().rootfs(rootfs).command("/bin/sh", "-c", script);
    }

    /** The parents of the container cgroups Berth would make below this process's cgroup in each hierarchy. */
    private static List<Path> berthParents() throws Exception {
        List<Path> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            String mount = f[1].isEmpty() ? (Files.isDirectory(Path.of("/sys/fs/cgroup/unified")) ? "unified" : "")
                    : f[1].replace("name=", "");
            Path own = Path.of("/sys/fs/cgroup", mount, f[2].substring(1));
            if (Files.isDirectory(Path.of("/sys/fs/cgroup", mount))) {
                assertThat(own).as("this process's cgroup from " + line).isDirectory();
                out.add(own.resolve("berth"));
            }
        }
        return out;
    }

    @Test
    void limitsAreRefusedInOneLineNamingTheOptionUidAndFindingAndNothingIsLeft() throws Exception {
        long uid = Preconditions.requireUnprivileged();
        Delegation found = Delegation.detect(uid);
        assertThat(found.delegated()).as("this host is hybrid: nothing is delegated to %s", uid).isFalse();
        assertThat(found.finding()).startsWith("hybrid host: controllers ").contains(" are cgroup v1");
        List<Path> parents = berthParents();
        ContainerRuntime rt = runtime();
        assertThat(rt.cgroupDriver()).isEmpty();

        String[][] cases = {{"--memory", "m"}, {"--pids-limit", "p"}, {"--cpus", "c"}};
        List<String> ids = new ArrayList<>();
        for (String[] c : cases) {
            Resources.Builder r = Resources.builder();
            switch (c[0]) {
                case "--memory" -> r.memoryMax(64L << 20);
                case "--pids-limit" -> r.pidsMax(20);
                default -> r.cpus(0.5);
            }
            String id = id(c[1]);
            ids.add(id);
            assertThatThrownBy(() -> rt.start(id, shell("echo hi").resources(r.build()).build()))
                    .isInstanceOf(ContainerStartException.class)
                    .hasMessage("rootless: " + c[0] + " needs a delegated cgroup v2 subtree (none found for uid " + uid
                            + ": " + found.finding() + "; see docs/rootless.md)");
            assertThat(rt.list()).as("no container is listed after " + c[0]).isEmpty();
            assertThat(Files.exists(stateRoot.resolve(id))).as("state of " + id).isFalse();
            assertThat(Files.exists(storageRoot.resolve("containers").resolve(id))).as("directory of " + id).isFalse();
        }
        for (Path p : parents) { // (a rootful runtime's "berth" parent may exist: cgroup names are the host's)
            for (String id : ids) {
                assertThat(p.resolve(id)).as("no cgroup made by a rootless runtime").doesNotExist();
            }
        }
        assertThat(ProcessHandle.current().children().toList()).as("no process left").isEmpty();
        // the id is free again: a second attempt fails the same way, not with "already exists"
        assertThatThrownBy(() -> rt.start(id("m"), shell("true").resources(Resources.builder().memoryMax(1L << 26)
                .build()).build())).hasMessageStartingWith("rootless: --memory needs a delegated cgroup v2 subtree");
    }

    @Test
    void withoutLimitsAContainerRunsWithoutACgroup() throws Exception {
        long uid = Preconditions.requireUnprivileged();
        ContainerRuntime rt = runtime();
        assertThat(rt.rootless()).isTrue();
        Path out = tmp.resolve("out.txt");
        String id = id("plain");
        try (Container c = rt.start(id, shell("id -u; cat /proc/self/cgroup").stdout(Stdio.file(out)).build())) {
            assertThat(c.onExit().get(60, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            assertThatThrownBy(c::stats).as("stats need a cgroup").isInstanceOf(IllegalStateException.class);
        }
        List<String> lines = Files.readAllLines(out);
        assertThat(lines.get(0)).as("root in its user namespace (the user %s outside)", uid).isEqualTo("0");
        // no cgroup of its own: it stays in the JVM's (which is not named after the container)
        assertThat(lines.subList(1, lines.size())).noneMatch(l -> l.contains(id));
        for (Path p : berthParents()) {
            assertThat(p.resolve(id)).doesNotExist();
        }
    }

    @Test
    void thePreflightReportsWhatTheRuntimeDecidesWith() throws Exception {
        long uid = Preconditions.requireUnprivileged();
        Delegation found = Delegation.detect(uid);
        Preflight.Report r = runtime().preflight();
        Check d = r.check(Preflight.CGROUP_DELEGATION).orElseThrow();
        assertThat(d.status()).isEqualTo(Status.MISSING);
        assertThat(d.found()).isEqualTo("none found for uid " + uid + " (" + found.finding() + ")");
        assertThat(d.fix()).hasValueSatisfying(f -> assertThat(f).contains("Delegate=yes").contains("docs/rootless.md"));
    }
}
