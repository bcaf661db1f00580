package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.internal.RootlessStart;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.RootlessIds;
import dev.berth.linux.internal.ProcStatus;
import dev.berth.testing.Preconditions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A rootless runtime's containers with the user's mapping join one user namespace the runtime made once (its maps
 * written once by newuidmap and newgidmap), each with mount, PID, IPC, UTS and network namespaces of its own; an
 * explicit mapping gets its own namespace; another runtime makes its own; the process that made it is gone.
 * Run by .ci/rootless-suite.sh as an unprivileged user with subordinate ids, never as root.
 */
class SharedUserNamespaceRootlessIT extends ContainerTestSupport {
    private final String run = "us" + Long.toHexString(System.nanoTime() & 0xffffff);

    @BeforeAll
    static void unprivileged() {
        Preconditions.requireUnprivileged();
    }

    /** The namespace links of a running container's process that its user may inspect. */
    private static String ns(Container c, String kind) throws IOException {
        long pid = RootlessStart.inspectable(c.pid());
        return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + kind)).toString();
    }

    private static String own(String kind) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/self/ns/" + kind)).toString();
    }

    @Test
    void twoContainersStartedAtOnceShareOneUserNamespaceAndNothingElse() throws Exception {
        ExecutorService two = Executors.newFixedThreadPool(2);
        try (ContainerRuntime rt = ContainerRuntime.builder().stateRoot(tmp.resolve("state-" + run))
                .storageRoot(tmp.resolve("storage")).reconcile(false).build()) {
            Callable<Container> start = () -> rt.start(probe("sleep", "60").build());
            Future<Container> a = two.submit(start);
            Future<Container> b = two.submit(start);
            try (Container ca = a.get(60, TimeUnit.SECONDS); Container cb = b.get(60, TimeUnit.SECONDS)) {
                assertThat(ns(ca, "user")).isEqualTo(ns(cb, "user")).isNotEqualTo(own("user"));
                for (String kind : List.of("mnt", "pid", "ipc", "uts", "net")) {
                    assertThat(ns(ca, kind)).as(kind).isNotEqualTo(ns(cb, kind)).isNotEqualTo(own(kind));
                }
                // the shared namespace maps as a container's own would: root the user, then its subordinate range
                Result r = run(rt, probe("id", "--", "cat", "/proc/self/uid_map"));
                assertThat(r.stdout()).startsWith("uid=0 gid=0 euid=0 egid=0\n");
                assertThat(r.stdout().lines().skip(1).map(l -> l.trim().split("\\s+")[0]).toList())
                        .containsExactly("0", "1");
                // a third, later, joins the same one: the namespace is made once per runtime
                try (Container cc = rt.start(probe("sleep", "60").build())) {
                    assertThat(ns(cc, "user")).isEqualTo(ns(ca, "user"));
                    cc.kill();
                }
                ca.stop(Duration.ofSeconds(5));
                cb.stop(Duration.ofSeconds(5));
            }
        } finally {
            two.shutdownNow();
        }
        // the process that made the namespace ended at once; the containers' monitors went with them
        assertThat(ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("")
                .endsWith("berth-init")).toList()).isEmpty();
    }

    @Test
    void anExplicitMappingGetsANamespaceOfItsOwnAndAnotherRuntimeMakesItsOwn() throws Exception {
        long uid = Preconditions.requireUnprivileged();
        try (ContainerRuntime rt = ContainerRuntime.builder().stateRoot(tmp.resolve("state-" + run + "-a"))
                .storageRoot(tmp.resolve("storage")).reconcile(false).build();
                ContainerRuntime other = ContainerRuntime.builder().stateRoot(tmp.resolve("state-" + run + "-b"))
                        .storageRoot(tmp.resolve("storage")).reconcile(false).build();
                Container shared = rt.start(probe("sleep", "60").build());
                Container explicit = rt.start(probe("sleep", "60").userNamespace(UserNamespace.of(
                        List.of(IdMapping.of(0, uid, 1)), List.of(IdMapping.of(0, ProcStatus.effectiveGid(), 1)))).build());
                Container elsewhere = other.start(probe("sleep", "60").build())) {
            assertThat(ns(explicit, "user")).isNotEqualTo(ns(shared, "user"));
            assertThat(ns(elsewhere, "user")).isNotEqualTo(ns(shared, "user")).isNotEqualTo(ns(explicit, "user"));
            shared.kill();
            explicit.kill();
            elsewhere.kill();
        }
    }


    /**
     * The runtime reads the subordinate id files again only when they change (SubordinateIdFiles): an edit in
     * place that keeps the file's size gets a new shared namespace with the new range, and the next start with
     * the file unchanged joins that one.
     */
    @Test
    void anEditedSubuidFileGetsANewSharedNamespaceAndAnUnchangedOneKeepsIt() throws Exception {
        RootlessIds ids = RootlessIds.require();
        String user = System.getProperty("user.name");
        long start = ids.subuid().start();
        long count = ids.subuid().count();
        Path subuid = tmp.resolve("subuid-" + run);
        Path subgid = tmp.resolve("subgid-" + run);
        Files.writeString(subuid, user + ":" + start + ":" + count + "\n");
        Files.writeString(subgid, user + ":" + ids.subgid().start() + ":" + ids.subgid().count() + "\n");
        try (ContainerRuntime rt = ContainerRuntime.builder().stateRoot(tmp.resolve("state-" + run + "-e"))
                .storageRoot(tmp.resolve("storage")).reconcile(false).subordinateIds(subuid, subgid).build();
                Container a = rt.start(probe("sleep", "60").build())) {
            try (Container same = rt.start(probe("sleep", "60").build())) {
                assertThat(ns(same, "user")).isEqualTo(ns(a, "user"));
                same.kill();
            }
            // a range one smaller (within the real one, which newuidmap checks), written in place: same inode
            String edited = user + ":" + start + ":" + (count - 1) + "\n";
            assertThat(edited.length()).as("the same size").isEqualTo(Files.size(subuid));
            Files.writeString(subuid, edited);
            try (Container b = rt.start(probe("sleep", "60").build())) {
                assertThat(ns(b, "user")).isNotEqualTo(ns(a, "user"));
                assertThat(exec(b, "cat", "/proc/self/uid_map").lines().map(l -> l.trim().replaceAll("\\s+", " ")))
                        .containsExactly("0 " + ids.uid() + " 1", "1 " + start + " " + (count - 1));
                try (Container c = rt.start(probe("sleep", "60").build())) {
                    assertThat(ns(c, "user")).as("the file unchanged since").isEqualTo(ns(b, "user"));
                    c.kill();
                }
                b.kill();
            }
            a.kill();
        }
    }

    private static Result run(ContainerRuntime rt, ContainerSpec.Builder spec) throws Exception {
        try (Container c = rt.start(spec.build())) {
            String out = new String(c.stdout().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            return new Result(c.onExit().get(60, TimeUnit.SECONDS), out);
        }
    }
}
