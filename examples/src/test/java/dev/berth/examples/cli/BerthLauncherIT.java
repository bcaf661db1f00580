package dev.berth.examples.cli;

import static dev.berth.examples.cli.Launcher.sh;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.examples.cli.Launcher.Outcome;
import dev.berth.testing.Preconditions;
import dev.berth.testing.RequiresRoot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The executable examples/berth, as a user runs it. */
@RequiresRoot
class BerthLauncherIT {
    private static final String ROOTFS = System.getProperty("berth.test.rootfs");

    @RegisterExtension
    static final Launcher BERTH = new Launcher();

    private static Outcome berth(String... args) throws IOException, InterruptedException {
        return BERTH.run(args);
    }

    @Test
    void runsTheMainJobWithStdioAttached() throws Exception {
        Outcome o = berth("run", "--rootfs", ROOTFS, "--hostname", "demo", "-e", "X=1", "--", "probe", "hello");
        assertThat(o.code()).isZero();
        assertThat(o.out()).contains("hello from a berth container", "hostname: demo", "processes visible: 2");
    }

    @Test
    void optionsReachTheContainer() throws Exception {
        assertThat(berth("run", "--rootfs", ROOTFS, "-e", "X=hello world", "probe", "env").out()).contains("X=hello world");
        assertThat(berth("run", "--rootfs", ROOTFS, "--user", "alice:staff", "probe", "id").out())
                .isEqualTo("uid=1000 gid=50 euid=1000 egid=50\n");
        assertThat(berth("run", "--rootfs", ROOTFS, "--workdir", "/home/alice", "probe", "pwd").out()).isEqualTo("/home/alice\n");
        assertThat(berth("run", "--rootfs", ROOTFS, "--ulimit", "nofile=64:128", "probe", "cat", "/proc/self/limits").out())
                .containsPattern("Max open files\\s+64\\s+128");
    }

    @Test
    void securityOptSeccompPicksTheFilter(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        assertThat(berth("run", "--rootfs", ROOTFS, "probe", "syscall", "keyctl").out())
                .isEqualTo("keyctl: Operation not permitted\n");
        assertThat(berth("run", "--security-opt", "seccomp=unconfined", "--rootfs", ROOTFS, "probe", "status").out())
                .contains("Seccomp:\t0");
        Path profile = Files.writeString(tmp.resolve("deny-mkdir.json"), "{\"defaultAction\": "
                + "\"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": "
                + "\"SCMP_ACT_ERRNO\", \"errnoRet\": 13}]}");
        assertThat(berth("run", "--security-opt", "seccomp=" + profile, "--rootfs", ROOTFS, "probe", "mkdir", "/tmp/x")
                .out()).isEqualTo("mkdir /tmp/x: Permission denied\n");
    }

    @Test
    void uidmapRunsTheContainerInAUserNamespaceOfItsOwn() throws Exception {
        long base = 100000L + 65536L * (1 + (ProcessHandle.current().pid() % 200));
        Outcome o = berth("run", "--rootfs", ROOTFS, "--uidmap", "0:" + base + ":65536", "probe", "id", "--", "cat",
                "/proc/self/uid_map", "--", "cat", "/proc/self/gid_map");
        assertThat(o.code()).isZero();
        java.util.List<String> lines = o.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("uid=0 gid=0 euid=0 egid=0");
        assertThat(lines.get(1).trim().split("\\s+")).containsExactly("0", Long.toString(base), "65536");
        assertThat(lines.get(2).trim().split("\\s+")).as("a uidmap alone maps the gids the same")
                .containsExactly("0", Long.toString(base), "65536");
        Outcome unmapped = berth("run", "--rootfs", ROOTFS, "--uidmap", "0:" + base + ":1000", "--user", "1000",
                "probe", "id");
        assertThat(unmapped.code()).isEqualTo(125);
        assertThat(unmapped.err()).contains("user 1000: not mapped by the container's uid map 0:" + base + ":1000");
    }

    /**
     * {@code berth inspect}, another process than the one that started the detached containers, shows the maps each
     * runs with (read from its state), as podman's HostConfig.IDMappings; a container without a user namespace says
     * host.
     */
    @Test
    void inspectShowsTheIdMappingsADetachedContainerRunsWith() throws Exception {
        long base = 100000L + 65536L * (1 + (ProcessHandle.current().pid() % 200));
        String mapped = BERTH.name("cli-mapped");
        String plain = BERTH.name("cli-plain");
        Outcome started = berth("run", "-d", "--name", mapped, "--network", "none", "--rootfs", ROOTFS, "--uidmap",
                "0:" + base + ":65536", "--gidmap", "0:" + (base + 65536) + ":1000", "probe", "sleep", "60");
        assertThat(started.code()).as(started.err()).isZero();
        Outcome host = berth("run", "-d", "--name", plain, "--network", "none", "--rootfs", ROOTFS, "probe", "sleep",
                "60");
        assertThat(host.code()).as(host.err()).isZero();
        try {
            com.fasterxml.jackson.databind.JsonNode both = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(berth("inspect", mapped, plain).out());
            com.fasterxml.jackson.databind.JsonNode m = both.get(0).get("HostConfig");
            assertThat(m.get("UsernsMode").asText()).isEqualTo("private");
            assertThat(m.at("/IDMappings/UidMap")).extracting(com.fasterxml.jackson.databind.JsonNode::asText)
                    .containsExactly("0:" + base + ":65536");
            assertThat(m.at("/IDMappings/GidMap")).extracting(com.fasterxml.jackson.databind.JsonNode::asText)
                    .containsExactly("0:" + (base + 65536) + ":1000");
            long pid = both.get(0).at("/State/Pid").asLong();
            assertThat(Files.readString(Path.of("/proc/" + pid + "/uid_map")).trim().split("\\s+"))
                    .as("what the kernel says the init runs with").containsExactly("0", Long.toString(base), "65536");
            assertThat(both.get(1).at("/HostConfig/UsernsMode").asText()).isEqualTo("host");
            assertThat(both.get(1).at("/HostConfig/IDMappings").isMissingNode()).isTrue();
        } finally {
            berth("rm", "-f", mapped, plain);
        }
        assertThat(berth("ps", "-a", "-q").out()).doesNotContain(mapped, plain);
    }

    @Test
    void exitCodesFollowDocker() throws Exception {
        assertThat(berth("run", "--rootfs", ROOTFS, "probe", "exit", "42").code()).isEqualTo(42);
        assertThat(berth("run", "--rootfs", ROOTFS, "probe", "kill-self", "9").code()).isEqualTo(137);
        Outcome notFound = berth("run", "--rootfs", ROOTFS, "/bin/nope");
        assertThat(notFound.code()).isEqualTo(127);
        assertThat(notFound.err()).contains("exec(/bin/nope): No such file or directory");
        assertThat(berth("run", "--rootfs", ROOTFS, "/etc/passwd").code()).isEqualTo(126);
        Outcome noRoot = berth("run", "--rootfs", "/no/such/root", "true");
        assertThat(noRoot.code()).isEqualTo(125);
        assertThat(noRoot.err()).contains("/no/such/root");
        Outcome badWorkdir = berth("run", "--rootfs", ROOTFS, "-w", "/missing", "true");
        assertThat(badWorkdir.code()).isEqualTo(125);
        assertThat(badWorkdir.err()).contains("chdir(/missing): No such file or directory");
        Outcome usage = berth("run", "--rootfs", ROOTFS, "--bogus", "true");
        assertThat(usage.code()).isEqualTo(125);
        assertThat(usage.err()).isEqualTo("berth: Unknown option: '--bogus' (see 'berth run --help')\n");
        // options end at the first positional, as docker's: -c and -- belong to the command
        Outcome shell = berth("run", "--rootfs", ROOTFS, "probe", "echo", "-c", "x", "--", "echo", "--memory", "y");
        assertThat(shell.code()).isZero();
        assertThat(shell.out()).isEqualTo("-c x\n--memory y\n");
    }

    @Test
    void deviceFlagsGrantWhatTheySayAndNothingElse() throws Exception {
        // /dev/loop-control (10:237) is no default device: granted for reading only, it opens for
        // reading (its read then fails, as loop-control reads do) and not for writing
        Outcome granted = berth("run", "--rootfs", ROOTFS, "--device", "/dev/loop-control:/dev/lc:r",
                "probe", "read", "/dev/lc", "1", "--", "overwrite", "/dev/lc", "x");
        assertThat(granted.out().lines()).containsExactly("read /dev/lc: Invalid argument",
                "open /dev/lc: Operation not permitted");
        // a node the container makes itself (loop-control's numbers) opens only under a rule for it
        Outcome made = berth("run", "--rootfs", ROOTFS, "probe", "mknod", "/dev/z", "c", "10", "237", "--",
                "read", "/dev/z", "1");
        assertThat(made.out().lines()).containsExactly("mknod /dev/z: ok", "open /dev/z: Operation not permitted");
        Outcome ruled = berth("run", "--rootfs", ROOTFS, "--device-cgroup-rule", "c 10:237 r",
                "probe", "mknod", "/dev/z", "c", "10", "237", "--", "read", "/dev/z", "1");
        assertThat(ruled.out().lines()).containsExactly("mknod /dev/z: ok", "read /dev/z: Invalid argument");
        Outcome notADevice = berth("run", "--rootfs", ROOTFS, "--device", "/etc/passwd", "true");
        assertThat(notADevice.code()).isEqualTo(125);
        assertThat(notADevice.err()).contains("--device /etc/passwd: devices: /etc/passwd is not a character or block device");
        Outcome badRule = berth("run", "--rootfs", ROOTFS, "--device-cgroup-rule", "x 1:3 rwm", "true");
        assertThat(badRule.code()).isEqualTo(125);
        assertThat(badRule.err()).contains("--device-cgroup-rule: devices: \"x 1:3 rwm\" is not a rule like");
    }

    /** berth cp against a container another berth process runs, found by its name under the state root. */
    @Test
    void cpCopiesBetweenTheHostAndARunningContainer(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        String cpit = BERTH.name("cpit");
        Process run = new ProcessBuilder(BERTH.command("run", "--name", cpit, "--rootfs", ROOTFS, "probe", "mkdir",
                "/tmp/cpit", "--", "sleep", "60")).redirectErrorStream(true).start();
        try {
            Path stateFile = BERTH.stateRoot().resolve(cpit).resolve("state.json");
            for (int i = 0; i < 500 && !Files.exists(stateFile); i++) {
                Thread.sleep(20);
            }
            assertThat(stateFile).exists();
            Path host = Files.writeString(tmp.resolve("in.txt"), "from the host");
            Outcome in = berth("cp", host.toString(), cpit + ":/tmp/cpit/");
            assertThat(in.code()).as(in.err()).isZero();
            Outcome out = berth("cp", cpit + ":/tmp/cpit/in.txt", tmp.resolve("back.txt").toString());
            assertThat(out.code()).as(out.err()).isZero();
            assertThat(tmp.resolve("back.txt")).hasContent("from the host");
            Outcome tar = berth("cp", cpit + ":/etc/passwd", "-");
            assertThat(tar.code()).isZero();
            assertThat(tar.out()).startsWith("passwd").contains("alice:x:1000");
            Outcome missing = berth("cp", cpit + ":/no/such", tmp.resolve("x").toString());
            assertThat(missing.code()).isEqualTo(1);
            assertThat(missing.err()).isEqualTo("berth: cp: /no/such: no such file or directory in container " + cpit + "\n");
            Outcome noContainer = berth("cp", "nope:/etc", tmp.resolve("x").toString());
            assertThat(noContainer.code()).isEqualTo(1);
            assertThat(noContainer.err()).isEqualTo("berth: cp: no such container: nope\n");
            Outcome usage = berth("cp", host.toString(), tmp.resolve("y").toString());
            assertThat(usage.code()).isEqualTo(125);
            assertThat(usage.err()).contains("one of SRC and DEST must be CONTAINER:PATH").contains("berth cp --help");
        } finally {
            run.destroy(); // SIGTERM: the launcher forwards it and the container ends
            run.waitFor(30, TimeUnit.SECONDS);
            Files.deleteIfExists(Path.of(ROOTFS, "tmp/cpit/in.txt"));
            Files.deleteIfExists(Path.of(ROOTFS, "tmp/cpit"));
        }
    }

    @Test
    void resourceFlagsLimitTheContainer() throws Exception {
        assertThat(berth("run", "--rootfs", ROOTFS, "--memory", "32m", "--memory-swap", "32m", "probe", "hog", "200").code())
                .isEqualTo(137);
        assertThat(berth("run", "--rootfs", ROOTFS, "--memory", "64m", "probe", "hog", "8").code()).isZero();
        assertThat(berth("run", "--rootfs", ROOTFS, "--pids-limit", "16", "probe", "fork", "100").out())
                .matches("started=1[0-4]\n");
        Outcome bad = berth("run", "--rootfs", ROOTFS, "--memory", "lots", "true");
        assertThat(bad.code()).isEqualTo(125);
        assertThat(bad.err()).contains("--memory: invalid size \"lots\"");
        Outcome badCpus = berth("run", "--rootfs", ROOTFS, "--cpus", "-1", "true");
        assertThat(badCpus.code()).isEqualTo(125);
        assertThat(badCpus.err()).contains("cpu");
    }

    @Test
    void importListRunAndRemoveAnImage(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Preconditions.requireTool("umoci", "umoci");
        Path layout = tmp.resolve("L");
        sh(tmp, "umoci", "init", "--layout", "L");
        sh(tmp, "umoci", "new", "--image", "L:t");
        sh(tmp, "umoci", "unpack", "--image", "L:t", "B");
        sh(tmp, "cp", "-a", ROOTFS + "/.", tmp.resolve("B/rootfs").toString());
        sh(tmp, "umoci", "repack", "--image", "L:t", "B");
        sh(tmp, "umoci", "config", "--image", "L:t", "--config.cmd", "/bin/probe", "--config.cmd", "hello",
                "--config.workingdir", "/home/alice");
        String store = BERTH.newStorageRoot().toString();
        Outcome imported = berth("import", layout.toString(), "--name", "cli/demo:1", "--root", store);
        assertThat(imported.code()).as(imported.err()).isZero();
        assertThat(imported.out()).startsWith("cli/demo:1 sha256:").contains("(1 layers)");
        assertThat(berth("images", "--root", store).out()).contains("cli/demo:1");
        Outcome ran = berth("run", "--root", store, "cli/demo:1");
        assertThat(ran.code()).isZero();
        assertThat(ran.out()).contains("hello from a berth container", "cwd: /home/alice");
        assertThat(berth("run", "--root", store, "cli/demo:1", "probe", "echo", "overridden").out()).isEqualTo("overridden\n");
        Outcome missing = berth("run", "--root", store, "cli/nope:1");
        assertThat(missing.code()).isEqualTo(125);
        assertThat(missing.err()).contains("image cli/nope:1");
        assertThat(berth("rmi", "--root", store, "cli/demo:1").out()).isEqualTo("removed cli/demo:1\n");
        assertThat(berth("rmi", "--root", store, "cli/demo:1").code()).isEqualTo(1);
        assertThat(berth("images", "--root", store).out()).doesNotContain("cli/demo:1");
        Outcome noFile = berth("import", tmp.resolve("nothing.tar").toString(), "--root", store);
        assertThat(noFile.code()).isEqualTo(125);
        assertThat(noFile.err()).contains("nothing.tar");
    }

    @Test
    void bindVolumeAndTmpfsFlagsAndTheVolumeCommands(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        String store = BERTH.newStorageRoot().toString();
        Path host = Files.createDirectories(tmp.resolve("host"));
        Files.writeString(host.resolve("in"), "from the host\n");
        Path root = tmp.resolve("root");
        sh(tmp, "cp", "-a", ROOTFS, root.toString()); // mount points are made in a directory root
        String r = root.toString();
        Outcome bind = berth("run", "--rm", "--root", store, "--rootfs", r, "-v", host + ":/data:ro", "probe", "cat",
                "/data/in", "--", "write", "/data/x", "1");
        assertThat(bind.out()).isEqualTo("from the host\n/data/x: Read-only file system\n");
        Outcome rw = berth("run", "--root", store, "--rootfs", r, "--mount", "type=bind,source=" + host + ",target=/data",
                "probe", "write", "/data/out", "written");
        assertThat(rw.code()).as(rw.err()).isZero();
        assertThat(Files.readString(host.resolve("out"))).isEqualTo("written");
        Outcome tmpfs = berth("run", "--root", store, "--rootfs", r, "--tmpfs", "/scratch:size=1m,mode=700",
                "probe", "statvfs", "/scratch", "--", "stat", "/scratch");
        assertThat(tmpfs.out()).isEqualTo("rw nosuid nodev noexec size=1048576\ndir 700 0:0\n");
        // a named volume is made by its first use, outlives --rm, and is seen by the next container
        Outcome first = berth("run", "--rm", "--root", store, "--rootfs", r, "-v", "cli-data:/v", "probe", "write",
                "/v/kept", "across containers");
        assertThat(first.code()).as(first.err()).isZero();
        assertThat(berth("run", "--root", store, "--rootfs", r, "--mount", "source=cli-data,target=/v", "probe", "cat",
                "/v/kept").out()).isEqualTo("across containers");
        assertThat(berth("volume", "ls", "--root", store).out()).isEqualTo("DRIVER   VOLUME NAME\nlocal    cli-data\n");
        assertThat(berth("volume", "create", "--root", store, "cli-other").out()).isEqualTo("cli-other\n");
        Outcome inspect = berth("volume", "inspect", "--root", store, "cli-data");
        assertThat(inspect.out()).contains("\"Name\" : \"cli-data\"", "\"Mountpoint\" : \"" + store + "/volumes/cli-data/_data\"");
        assertThat(Files.readString(Path.of(store, "volumes/cli-data/_data/kept"))).isEqualTo("across containers");
        Outcome missing = berth("volume", "inspect", "--root", store, "nope");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err()).isEqualTo("berth: volume inspect nope: no such volume\n");
        assertThat(berth("volume", "rm", "--root", store, "cli-data", "cli-other").out()).isEqualTo("cli-data\ncli-other\n");
        assertThat(berth("volume", "rm", "--root", store, "cli-data").code()).isEqualTo(1);
        Outcome bad = berth("run", "--root", store, "--rootfs", r, "-v", "/srv:/proc", "true");
        assertThat(bad.code()).isEqualTo(125);
        assertThat(bad.err()).isEqualTo("berth: mounts[0].destination: cannot mount over /proc itself (the container's"
                + " own root and system mounts) (see 'berth run --help')\n");
        Outcome noSource = berth("run", "--root", store, "--rootfs", r, "-v", tmp.resolve("none") + ":/x", "true");
        assertThat(noSource.code()).isEqualTo(125);
        assertThat(noSource.err()).startsWith("berth: open_tree(" + tmp.resolve("none") + "): No such file or directory");
    }

    @Test
    void signalsToTheLauncherReachTheContainer() throws Exception {
        Process p = new ProcessBuilder(BERTH.command("run", "--rootfs", ROOTFS, "probe", "wait-signal"))
                .redirectErrorStream(true).start();
        var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
        new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
        assertThat(out.readLine()).isEqualTo("got 15");
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(115);
    }
}
