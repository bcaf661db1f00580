package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cgroups.CgroupDriver;
import dev.berth.core.testing.EmbedderMain;
import dev.berth.testing.RequiresRoot;
import dev.berth.core.testing.TestRootfs;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedding JVM dies by SIGKILL (no shutdown hook, no close()): its containers must not
 * outlive it. The monitor sees the control socket close and kills its container; the init has a
 * parent-death signal towards the monitor should the monitor die too.
 */
@RequiresRoot
class JvmCrashIT {
    @TempDir
    Path tmp;

    @Test
    void containersDieWithAJvmKilledByKill9() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process jvm = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                EmbedderMain.class.getName(), tmp.resolve("state").toString(), tmp.resolve("storage").toString(),
                TestRootfs.path().toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String id;
        long init;
        List<Long> processes = new ArrayList<>();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
            String line = out.readLine();
            assertThat(line).as("the child JVM started its container").startsWith("id ");
            String[] f = line.split(" ");
            id = f[1];
            init = Long.parseLong(f[3]);
            processes.add(init);
            processes.addAll(childrenOf(init)); // the target
            ProcessHandle.of(init).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).ifPresent(processes::add);
            assertThat(processes).as("init, its target and the monitor").hasSize(3)
                    .allMatch(p -> ProcessHandle.of(p).isPresent());
        } finally {
            jvm.destroyForcibly(); // SIGKILL
        }
        assertThat(jvm.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(jvm.exitValue()).isEqualTo(137);
        for (long p : processes) {
            ProcessHandle.of(p).ifPresent(h -> h.onExit().orTimeout(30, TimeUnit.SECONDS).join());
            assertThat(ProcessHandle.of(p).filter(ProcessHandle::isAlive)).as("pid %d after the JVM's death", p).isEmpty();
        }
        // What the crash left on disk (cgroup, state) goes when the next runtime on the state root comes up
        assertThat(tmp.resolve("state").resolve(id)).exists();
        try (ContainerRuntime next = ContainerRuntime.builder().stateRoot(tmp.resolve("state"))
                .storageRoot(tmp.resolve("storage")).reconcile(false).build()) {
            assertThat(next.reconcile().removed()).containsExactly(id);
        }
        assertThat(tmp.resolve("state").resolve(id)).doesNotExist();
        try (CgroupDriver d = CgroupDriver.detect()) {
            assertThat(d.open(id)).isEmpty();
        }
    }

    private static List<Long> childrenOf(long pid) throws Exception {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < 100 && out.isEmpty(); i++) {
            String c = Files.readString(Path.of("/proc/" + pid + "/task/" + pid + "/children")).trim();
            if (!c.isEmpty()) {
                for (String s : c.split(" ")) {
                    out.add(Long.parseLong(s));
                }
            } else {
                Thread.sleep(10);
            }
        }
        return out;
    }
}
