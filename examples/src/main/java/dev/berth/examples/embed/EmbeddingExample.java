package dev.berth.examples.embed;

import dev.berth.core.Container;
import dev.berth.core.ContainerRuntime;
import dev.berth.core.ContainerSpec;
import dev.berth.core.ContainerStartException;
import dev.berth.core.ExecProcess;
import dev.berth.core.ExecSpec;
import dev.berth.core.ExitStatus;
import dev.berth.core.Stdio;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How an application embeds Berth: run a sandboxed worker, talk to it over its stdio,
 * stop it, and handle a start that fails. docs/api.md walks through this file.
 *
 * <p>Run as root: {@code java -cp ... dev.berth.examples.embed.EmbeddingExample ROOTFS}
 */
public final class EmbeddingExample {

    public static void main(String[] args) throws Exception {
        Path rootfs = Path.of(args.length > 0 ? args[0] : "examples/target/rootfs");
        Path state = Files.createTempDirectory("berth-example");

        try (ContainerRuntime runtime = ContainerRuntime.builder().stateRoot(state).build()) {

            // 1. A worker that echoes its stdin, run as an unprivileged user.
            ContainerSpec worker = ContainerSpec.builder()
                    .rootfs(rootfs)
                    .command("/bin/probe", "stdin")
                    .user("alice")
                    .hostname("worker-1")
                    .stdin(Stdio.pipe())
                    .stdout(Stdio.pipe())
                    .build();
            try (Container c = runtime.start(worker)) {
                try (OutputStream in = c.stdin()) {
                    in.write("job 42\n".getBytes(StandardCharsets.UTF_8));
                }
                BufferedReader out = new BufferedReader(new InputStreamReader(c.stdout(), StandardCharsets.UTF_8));
                System.out.println("worker said: " + out.readLine());
                System.out.println("worker ended: " + c.onExit().join());
            }

            // 2. A long-running service, stopped gracefully (SIGTERM, then SIGKILL after 5 s).
            try (Container service = runtime.start(ContainerSpec.builder()
                    .rootfs(rootfs).command("/bin/probe", "wait-signal").stdout(Stdio.pipe()).build())) {
                BufferedReader out = new BufferedReader(new InputStreamReader(service.stdout(), StandardCharsets.UTF_8));
                System.out.println("service says: " + out.readLine() + " (pid " + service.pid() + ")");
                // another process in the running service, as docker exec: its namespaces, cgroup and
                // root, another user, stdio of its own, its own exit
                try (ExecProcess id = service.exec(ExecSpec.builder().command("/bin/probe", "id")
                        .user("alice").stdout(Stdio.pipe()).build())) {
                    String said = new String(id.stdout().readAllBytes(), StandardCharsets.UTF_8).trim();
                    System.out.println("exec in service: " + said + ", " + id.onExit().join());
                }
                ExitStatus stopped = service.stop(Duration.ofSeconds(5));
                System.out.println("service stopped: " + stopped);
            }

            // 3. A start that fails names the step, and leaves nothing behind.
            try {
                runtime.start(ContainerSpec.builder().rootfs(rootfs).command("/bin/probe", "hello")
                        .workingDir("/does/not/exist").build());
            } catch (ContainerStartException e) {
                System.out.println("start failed at " + e.syscall() + ": " + e.getMessage());
            }
        }
    }
}
