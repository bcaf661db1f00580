package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.internal.state.ProcessId;
import dev.berth.core.testing.TestRootfs;
import dev.berth.testing.RequiresRoot;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runtimes sharing one state root, starting and reconciling at once, corrupt nothing of each other's. */
@RequiresRoot
class StateConcurrencyIT {
    @TempDir
    Path tmp;

    private ContainerRuntime runtime(boolean reconcile) {
        return ContainerRuntime.builder().stateRoot(tmp.resolve("state")).storageRoot(tmp.resolve("storage"))
                .reconcile(reconcile).build();
    }

    private static ContainerSpec.Builder probe(String... args) {
        String[] argv = new String[args.length + 1];
        argv[0] = "/bin/probe";
        System.arraycopy(args, 0, argv, 1, args.length);
        return ContainerSpec.builder().rootfs(TestRootfs.path()).command(argv).stdout(Stdio.discard());
    }

    @Test
    void reconcilingAndListingWhileAnotherRuntimeStartsItsContainers() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        AtomicBoolean starting = new AtomicBoolean(true);
        ConcurrentLinkedQueue<String> removedByOthers = new ConcurrentLinkedQueue<>();
        try (ContainerRuntime a = runtime(true); ContainerRuntime b = runtime(true)) {
            List<Future<ExitStatus>> runs = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int thread = t;
                runs.add(pool.submit(() -> {
                    ExitStatus last = null;
                    for (int i = 0; i < 8; i++) {
                        try (Container c = a.start("conc-" + thread + "-" + i, probe("sleep", "0.2").build())) {
                            last = c.waitFor();
                            if (!last.equals(ExitStatus.exited(0))) {
                                return last;
                            }
                        }
                    }
                    return last;
                }));
            }
            Future<Integer> others = pool.submit(() -> {
                int rounds = 0;
                while (starting.get()) {
                    removedByOthers.addAll(b.reconcile().removed());
                    for (ContainerInfo i : b.list()) {
                        assertThat(i.owner()).isEqualTo(ContainerInfo.Owner.ANOTHER_RUNTIME);
                    }
                    try (ContainerRuntime c = runtime(false)) { // a third runtime coming up
                        removedByOthers.addAll(c.reconcile().removed());
                    }
                    rounds++;
                }
                return rounds;
            });
            for (Future<ExitStatus> r : runs) {
                assertThat(r.get(120, TimeUnit.SECONDS)).isEqualTo(ExitStatus.exited(0));
            }
            starting.set(false);
            assertThat(others.get(60, TimeUnit.SECONDS)).isPositive();
            assertThat(removedByOthers).as("what the other runtimes removed").isEmpty();
            assertThat(a.list()).isEmpty();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void twoRuntimesStartingOneIdAtOnce() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (ContainerRuntime a = runtime(true); ContainerRuntime b = runtime(true)) {
            for (int round = 0; round < 10; round++) {
                String id = "same-" + round;
                CyclicBarrier go = new CyclicBarrier(2);
                List<Future<Container>> f = new ArrayList<>();
                for (ContainerRuntime r : List.of(a, b)) {
                    f.add(pool.submit(() -> {
                        go.await();
                        return r.start(id, probe("sleep", "30").build());
                    }));
                }
                List<Container> won = new ArrayList<>();
                List<Throwable> lost = new ArrayList<>();
                for (Future<Container> x : f) {
                    try {
                        won.add(x.get(60, TimeUnit.SECONDS));
                    } catch (java.util.concurrent.ExecutionException e) {
                        lost.add(e.getCause());
                    }
                }
                assertThat(won).hasSize(1);
                assertThat(lost).singleElement().extracting(Throwable::getMessage)
                        .isEqualTo("container " + id + ": already exists");
                won.get(0).close();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void twoRuntimesReconcilingTheSameLeftoversAtOnce() throws Exception {
        Path state = tmp.resolve("state");
        Path storage = tmp.resolve("storage");
        String prefix = "dup" + Long.toHexString(System.nanoTime() & 0xffffff);
        Process jvm = CrashRecoveryIT.child(state, storage, "-", tmp.resolve("child.err"), prefix, 6);
        try (BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null && !line.equals("ready"); line = out.readLine()) {
                // started ...
            }
        } finally {
            jvm.destroyForcibly();
        }
        assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).isTrue();
        List<ProcessId> left = CrashRecoveryIT.processesNamedIn(state);
        assertThat(CrashRecoveryIT.ids(state)).hasSizeGreaterThanOrEqualTo(6);
        // reported: the ids with a state directory (a lock file alone is removed, not reported)
        Set<String> ids = CrashRecoveryIT.idsWithDirectory(state);

        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CyclicBarrier go = new CyclicBarrier(2);
            List<Future<Reconciliation>> f = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                f.add(pool.submit(() -> {
                    try (ContainerRuntime r = runtime(false)) {
                        go.await();
                        return r.reconcile();
                    }
                }));
            }
            Reconciliation one = f.get(0).get(120, TimeUnit.SECONDS);
            Reconciliation two = f.get(1).get(120, TimeUnit.SECONDS);
            assertThat(one.failed()).isEmpty();
            assertThat(two.failed()).isEmpty();
            Set<String> both = new HashSet<>(one.removed());
            both.retainAll(two.removed());
            assertThat(both).as("removed twice").isEmpty();
            Set<String> all = new HashSet<>(one.removed());
            all.addAll(two.removed());
            assertThat(all).containsExactlyInAnyOrderElementsOf(ids);
        } finally {
            pool.shutdownNow();
        }
        CrashRecoveryIT.assertNothingLeft(state, storage, prefix, left);
    }
}
