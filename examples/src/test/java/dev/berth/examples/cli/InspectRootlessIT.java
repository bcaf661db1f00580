package dev.berth.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.ContainerInfo;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.SubordinateIds;
import dev.berth.examples.cli.Launcher.Outcome;
import dev.berth.linux.internal.ProcStatus;
import dev.berth.testing.Preconditions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code berth inspect} run by an ordinary user (.ci/rootless-suite.sh; never as root): a detached rootless container
 * started by one {@code berth} process shows, to another, the maps it runs with: 0 to the user, 1..N to the user's
 * first subordinate range, uids and gids, as podman's HostConfig.IDMappings, the same the kernel shows for its init.
 */
class InspectRootlessIT {
    private static final String ROOTFS = System.getProperty("berth.test.rootfs");
    @TempDir
    Path tmp;
    private final String name = "rl-inspect-" + Long.toHexString(System.nanoTime() & 0xffffff);

    private Outcome berth(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("berth.launcher"), "--root",
                tmp.resolve("storage").toString(), "--state-root", tmp.resolve("state").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
            try {
                return p.getErrorStream().readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("berth %s ended", String.join(" ", args)).isTrue();
        return new Outcome(p.exitValue(), out, new String(err.join(), StandardCharsets.UTF_8));
    }

    /** Whatever a failed test left on the roots: removed (killed first), so no process of the user outlives it. */
    @AfterEach
    void removeAll() {
        if (!Files.isDirectory(tmp.resolve("state"))) {
            return;
        }
        try (ContainerRuntime r = ContainerRuntime.builder().stateRoot(tmp.resolve("state"))
                .storageRoot(tmp.resolve("storage")).build()) {
            for (ContainerInfo i : r.list()) {
                r.remove(i.id(), true);
            }
        } catch (Exception e) {
            throw new AssertionError("cleaning up: " + e.getMessage(), e);
        }
    }

    @Test
    void inspectShowsTheUsersOwnMappingFromTheState() throws Exception {
        long uid = Preconditions.requireUnprivileged();
        long gid = ProcStatus.effectiveGid();
        String user = System.getProperty("user.name");
        SubordinateIds.Range subuid = SubordinateIds.read(SubordinateIds.SUBUID).rangesOf(user, uid).get(0);
        SubordinateIds.Range subgid = SubordinateIds.read(SubordinateIds.SUBGID).rangesOf(user, uid).get(0);
        Outcome started = berth("run", "-d", "--name", name, "--network", "none", "--rootfs", ROOTFS, "probe", "sleep",
                "60");
        assertThat(started.code()).as(started.err()).isZero();

        Outcome inspect = berth("inspect", name);
        assertThat(inspect.code()).as(inspect.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(inspect.out()).get(0);
        assertThat(o.at("/HostConfig/UsernsMode").asText()).isEqualTo("private");
        assertThat(o.at("/HostConfig/IDMappings/UidMap")).extracting(JsonNode::asText)
                .containsExactly("0:" + uid + ":1", "1:" + subuid.start() + ":" + subuid.count());
        assertThat(o.at("/HostConfig/IDMappings/GidMap")).extracting(JsonNode::asText)
                .containsExactly("0:" + gid + ":1", "1:" + subgid.start() + ":" + subgid.count());
        // the kernel's word for the container's init (its target, PID 1 inside, shares the namespace)
        long pid = o.at("/State/Pid").asLong();
        assertThat(pid).isPositive();
        List<String> kernel = Files.readAllLines(Path.of("/proc/" + pid + "/uid_map")).stream()
                .map(l -> String.join(":", l.trim().split("\\s+"))).toList();
        assertThat(kernel).containsExactly("0:" + uid + ":1", "1:" + subuid.start() + ":" + subuid.count());

        Outcome rm = berth("rm", "-f", name);
        assertThat(rm.code()).as(rm.err()).isZero();
        assertThat(berth("ps", "-a", "-q").out()).doesNotContain(name);
    }
}
