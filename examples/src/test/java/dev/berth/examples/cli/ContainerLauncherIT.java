package dev.berth.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRoot;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A busybox image run as docker users type it: without {@code --} before the command, and as a
 * detached service that separate {@code berth} processes list, follow, enter, pause, stop and
 * remove.
 */
@RequiresRoot
class ContainerLauncherIT {
    @TempDir
    static Path tmp;
    private static String store;
    private static String state;
    private static final String IMAGE = "cli/busybox:1";

    record Outcome(int code, String out, String err) {}

    private static Outcome berth(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("berth.launcher"));
        cmd.add(args[0]);
        cmd.addAll(List.of("--root", store));
        if (!List.of("import", "images", "rmi", "pull").contains(args[0])) {
            cmd.addAll(List.of("--state-root", state)); // the image commands have no state root
        }
        cmd.addAll(List.of(args).subList(1, args.length));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Outcome(p.exitValue(), out, err);
    }

    /** An OCI image of the host's static busybox, its applets linked, imported into a fresh store. */
    @BeforeAll
    static void importBusybox() throws Exception {
        Preconditions.requireTool("umoci", "umoci");
        Path busybox = Path.of("/usr/bin/busybox");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(busybox), "busybox-static is not installed");
        store = tmp.resolve("store").toString();
        state = tmp.resolve("state").toString();
        sh("umoci", "init", "--layout", "L");
        sh("umoci", "new", "--image", "L:t");
        sh("umoci", "unpack", "--image", "L:t", "B");
        Path root = tmp.resolve("B/rootfs");
        Files.createDirectories(root.resolve("bin"));
        Files.createDirectories(root.resolve("tmp"));
        Files.copy(busybox, root.resolve("bin/busybox"));
        for (String applet : new String[] {"sh", "echo", "cat", "ls", "sleep", "seq", "id", "true", "hostname"}) {
            Files.createSymbolicLink(root.resolve("bin/" + applet), Path.of("busybox"));
        }
        sh("umoci", "repack", "--image", "L:t", "B");
        sh("umoci", "config", "--image", "L:t", "--config.cmd", "sh", "--config.env", "PATH=/bin");
        Outcome imported = berth("import", tmp.resolve("L").toString(), "--name", IMAGE);
        assertThat(imported.code()).as(imported.err()).isZero();
    }

    private static void sh(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    @Test
    void theCommandsOwnOptionsNeedNoDoubleDash() throws Exception {
        Outcome shell = berth("run", "--rm", IMAGE, "sh", "-c", "echo hi; echo there >&2; exit 3");
        assertThat(shell.code()).isEqualTo(3);
        assertThat(shell.out()).isEqualTo("hi\n");
        assertThat(shell.err()).isEqualTo("there\n");
        Outcome flags = berth("run", "--rm", IMAGE, "ls", "-1d", "/bin", "/tmp");
        assertThat(flags.code()).as(flags.err()).isZero();
        assertThat(flags.out()).isEqualTo("/bin\n/tmp\n");
        Outcome options = berth("run", "--rm", "-e", "X=1", IMAGE, "sh", "-c", "echo $X", "-e", "ignored");
        assertThat(options.out()).as("-e after the image is the command's").isEqualTo("1\n");
    }

    @Test
    void anotherBerthsContainerIsListedAndInspectedAndUnknownNamesChangeNothing() throws Exception {
        Process run = new ProcessBuilder(System.getProperty("berth.launcher"), "run", "--root", store, "--state-root",
                state, "--name", "listed", IMAGE, "sleep", "120").redirectErrorStream(true).start();
        try {
            Path ready = Path.of(state, "listed", "exec.json"); // written once the target runs
            for (int i = 0; i < 1000 && !Files.exists(ready); i++) {
                Thread.sleep(20);
            }
            Outcome ps = berth("ps");
            assertThat(ps.code()).as(ps.err()).isZero();
            List<String> lines = ps.out().lines().toList();
            assertThat(lines.get(0)).matches("CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +NAMES");
            assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("listed ").contains(IMAGE).contains("Up ")
                    .endsWith("listed"));
            assertThat(berth("ps", "-q").out()).contains("listed\n");
            JsonNode inspect = new ObjectMapper().readTree(berth("inspect", "list").out());
            assertThat(inspect.get(0).get("Id").asText()).as("a unique prefix finds it").isEqualTo("listed");
            assertThat(inspect.get(0).at("/State/Running").asBoolean()).isTrue();
            assertThat(inspect.get(0).at("/State/Pid").asLong()).isPositive();
            Outcome unknown = berth("stop", "listed", "nope");
            assertThat(unknown.code()).isEqualTo(1);
            assertThat(unknown.err()).isEqualTo("Error: No such container: nope\n");
            assertThat(unknown.out()).isEmpty();
            assertThat(run.isAlive()).as("stop with an unknown name stopped nothing").isTrue();
            Outcome rm = berth("rm", "listed");
            assertThat(rm.code()).isEqualTo(1);
            assertThat(rm.err()).startsWith("Error: cannot remove container listed: it is running");
            assertThat(run.isAlive()).isTrue();
        } finally {
            run.destroy(); // SIGTERM: the launcher forwards it, the container ends and is removed
            assertThat(run.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(berth("ps", "-a").out().lines()).hasSize(1);
    }
}
