package dev.berth.examples.cli;

import static dev.berth.examples.cli.InJvmBerth.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.ContainerSpec;
import dev.berth.core.ContainerStartException;
import dev.berth.core.Mount;
import dev.berth.core.ExtraHost;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class BerthCliTest {

    @Test
    void badArgumentsPrintOneLineWithAHintAndExit2() {
        String[] r = run("run", "--rootfs", "/r", "--ulimit", "nofiles=1", "true");
        assertThat(r[0]).isEqualTo("125");
        assertThat(r[1].lines()).singleElement().asString()
                .startsWith("berth: --ulimit nofiles=1: rlimit: unknown resource").endsWith("(see 'berth run --help')");
        String[] device = run("run", "--rootfs", "/r", "--device", "a:b:c:d", "true");
        assertThat(device[1]).isEqualTo("berth: --device: expected HOST[:CONTAINER[:PERMISSIONS]], got \"a:b:c:d\""
                + " (see 'berth run --help')\n");
    }

    @Test
    void everyCommandHasHelp() {
        for (String cmd : new String[] {"run", "exec", "import", "images", "rmi", "volume", "volume create", "volume ls",
                "volume inspect", "volume rm", "info"}) {
            java.io.PrintStream saved = System.out;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            try {
                String[] argv = (cmd + " --help").split(" ");
                assertThat(BerthCli.execute(argv)).as(cmd + " --help").isZero();
            } finally {
                System.setOut(saved);
            }
            assertThat(out.toString(StandardCharsets.UTF_8)).as(cmd).startsWith("Usage: berth " + cmd);
        }
        assertThat(BerthCli.execute("--help")).isZero();
    }

    @Test
    void missingCommandIsAUsageError() {
        String[] r = run("run", "--rootfs", "/r");
        assertThat(r[0]).isEqualTo("125");
        assertThat(r[1]).startsWith("berth: Missing required parameter");
    }

    @Test
    void invalidSpecValuesAreUsageErrorsNamingTheField() {
        assertThat(run("run", "--rootfs", "/r", "-w", "relative", "true")[1]).startsWith("berth: workingDir:");
        assertThat(run("run", "--rootfs", "/r", "-e", "=x", "true")[1]).startsWith("berth: --env: expected K=V or K");
        assertThat(run("run", "--rootfs", "/r", "--add-host", "nocolon", "true")[1])
                .isEqualTo("berth: --add-host: expected NAME:IP, got \"nocolon\" (see 'berth run --help')\n");
        assertThat(run("run", "--rootfs", "/r", "--add-host", "db:10.0.0.300", "true")[1])
                .startsWith("berth: extraHosts[0].address: \"10.0.0.300\" is not an IPv4 or IPv6 address");
        assertThat(run("run", "--rootfs", "/r", "--dns", "one.one.one.one", "true")[1]).startsWith("berth: dns[0]:");
        assertThat(run("run", "--rootfs", "/r", "--dns-search", "a b", "true")[1]).startsWith("berth: dnsSearch[0]:");
        assertThat(run("run", "--rootfs", "/r", "--dns-option", "", "true")[1]).startsWith("berth: dnsOptions[0]:");
        assertThat(run("run", "--rootfs", "/r", "--cap-add", "FLY", "true")[1]).startsWith("berth: --cap-add: capability");
        assertThat(run("run", "--rootfs", "/r", "--network", "container:", "true")[1]).startsWith("berth: --network:");
        assertThat(run("run", "--rootfs", "/r", "--network", "none", "-p", "80", "true")[1])
                .startsWith("berth: ports[0]: publishing 0.0.0.0:0->80/tcp needs the bridge, a user network, pasta or slirp4netns (network is none)");
        assertThat(run("run", "--rootfs", "/r", "-p", "1.2.3.4:x:80", "true")[1]).startsWith("berth: -p: ");
        assertThat(run("run", "--rootfs", "/r", "--network-alias", "db", "true")[1])
                .startsWith("berth: networkAliases[0]: aliases need a user network");
        assertThat(run("run", "--rootfs", "/r", "--ip", "10.0.0.300", "true")[1]).startsWith("berth: ipAddress: ");
        assertThat(run("port", "a", "80/sctp")[1]).startsWith("berth: PORT: expected");
        assertThat(run("run", "--rootfs", "/r", "--unknown", "true")[0]).isEqualTo("125");
    }

    @Test
    void sizesParseWithDockerUnits() {
        assertThat(Units.size("512")).isEqualTo(512);
        assertThat(Units.size("64k")).isEqualTo(64 * 1024);
        assertThat(Units.size("32m")).isEqualTo(32L << 20);
        assertThat(Units.size("32MB")).isEqualTo(32L << 20);
        assertThat(Units.size("1g")).isEqualTo(1L << 30);
        assertThat(Units.size("1.5g")).isEqualTo(3L << 29);
        assertThat(Units.size("10b")).isEqualTo(10);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Units.size("lots")).hasMessageContaining("invalid size");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Units.size("-1m")).hasMessageContaining("invalid size");
    }

    @Test
    void deviceRatesByNumberOrPath() {
        assertThat(Units.deviceRate("8:0:10mb")).isEqualTo(new Units.DeviceRate(8, 0, 10L << 20));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Units.deviceRate("/dev/null:1m"))
                .hasMessageContaining("not a block device");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Units.deviceRate("nocolon"))
                .hasMessageContaining("DEVICE:RATE");
    }

    @Test
    void progressBarRendersBytesBlobsAndLayers() {
        assertThat(ProgressBar.render(5L << 20, 10L << 20, 1, 3, 1))
                .isEqualTo("[===============               ] 5.0 MiB / 10.0 MiB  blobs 1/3  layers unpacked 1");
    }

    private static RunCommand parse(String... args) {
        RunCommand run = new RunCommand();
        new picocli.CommandLine(run).setStopAtPositional(true).parseArgs(args);
        return run;
    }

    @Test
    void ttyGivesTheContainerATerminalInsteadOfTheLaunchersStdio() {
        dev.berth.core.ContainerSpec plain = parse("--rootfs", "/r", "probe", "tty").toSpec();
        assertThat(plain.tty()).isFalse();
        assertThat(plain.stdin()).as("docker's: no stdin without -i").isEqualTo(dev.berth.core.Stdio.discard());
        assertThat(parse("-i", "--rootfs", "/r", "probe", "tty").toSpec().stdin()).isEqualTo(dev.berth.core.Stdio.inherit());
        dev.berth.core.ContainerSpec t = parse("-it", "--rootfs", "/r", "probe", "tty").toSpec();
        assertThat(t.tty()).isTrue();
        // sized as the launcher's terminal; this test's JVM has none
        assertThat(t.consoleSize()).isEqualTo(dev.berth.core.TerminalSize.DEFAULT);
        assertThat(t.command()).containsExactly("probe", "tty");
        // options end at the first positional: -t after the command belongs to it
        dev.berth.core.ContainerSpec late = parse("--rootfs", "/r", "probe", "-t").toSpec();
        assertThat(late.tty()).isFalse();
        assertThat(late.command()).containsExactly("probe", "-t");
    }

    @Test
    void startFailuresMapToDockerExitCodes() {
        assertThat(RunCommand.startFailureCode(new ContainerStartException("x", "exec", "nope", 2, null))).isEqualTo(127);
        assertThat(RunCommand.startFailureCode(new ContainerStartException("x", "exec", "/etc", 13, null))).isEqualTo(126);
        assertThat(RunCommand.startFailureCode(new ContainerStartException("x", "exec", "/x", 8, null))).isEqualTo(126);
        assertThat(RunCommand.startFailureCode(new ContainerStartException("x", "chdir", "/x", 2, null))).isEqualTo(125);
        assertThat(RunCommand.startFailureCode(new ContainerStartException("rootfs missing"))).isEqualTo(125);
    }

    @Test
    void volumeFlagsFollowDockersSyntax() {
        assertThat(MountArgs.volume("/srv/data:/data:ro,z")).isEqualTo(Mount.bind(Path.of("/srv/data"), "/data", "ro", "z"));
        assertThat(MountArgs.volume("cache:/cache")).isEqualTo(Mount.volume("cache", "/cache"));
        assertThat(MountArgs.volume("cache:/cache:nocopy")).isEqualTo(Mount.volume("cache", "/cache", "nocopy"));
        assertThat(MountArgs.tmpfs("/run")).isEqualTo(Mount.tmpfs("/run"));
        assertThat(MountArgs.tmpfs("/run:size=64m,mode=1777")).isEqualTo(Mount.tmpfs("/run", "size=64m", "mode=1777"));
        assertThat(MountArgs.mount("type=bind,source=/srv,target=/srv,readonly,bind-propagation=rslave,bind-recursive=disabled"))
                .isEqualTo(Mount.bind(Path.of("/srv"), "/srv", "ro", "rslave", "bind"));
        assertThat(MountArgs.mount("src=data,dst=/data,volume-nocopy,ro=false"))
                .isEqualTo(Mount.volume("data", "/data", "nocopy"));
        assertThat(MountArgs.mount("type=tmpfs,destination=/t,tmpfs-size=1m,tmpfs-mode=700"))
                .isEqualTo(Mount.tmpfs("/t", "size=1048576", "mode=700"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MountArgs.volume("/data"))
                .hasMessageStartingWith("anonymous volumes are not supported");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MountArgs.mount("type=bind,target=/x"))
                .hasMessage("source is required for a bind mount");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MountArgs.mount("type=npipe,src=a,target=/x"))
                .hasMessageContaining("expected bind, volume or tmpfs");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MountArgs.mount("src=a,target=/x,colour=red"))
                .hasMessage("unknown field \"colour\"");
    }

    @Test
    void badMountFlagsAreOneLineUsageErrors() {
        String[] r = run("run", "--rootfs", "/r", "-v", "/srv:relative", "true");
        assertThat(r[0]).isEqualTo("125");
        assertThat(r[1]).isEqualTo("berth: mounts[0].destination: \"relative\" must be an absolute, normalised path"
                + " (no \".\", \"..\", \"//\" or trailing \"/\") (see 'berth run --help')\n");
        String[] opt = run("run", "--rootfs", "/r", "--mount", "type=bind,src=/a,target=/b,bind-recursive=maybe", "true");
        assertThat(opt[1]).startsWith("berth: --mount type=bind,src=/a,target=/b,bind-recursive=maybe: bind-recursive:");
        assertThat(run("run", "--rootfs", "/r", "--tmpfs", "/t:size=lots", "true")[1])
                .startsWith("berth: mounts[0].options: \"size=lots\"");
        assertThat(run("run", "--rootfs", "/r", "-v", "/x", "true")[1])
                .startsWith("berth: -v /x: anonymous volumes are not supported");
    }

    /** Parses a run command line as the launcher does, with {@code caller} as the launcher's environment. */
    private static ContainerSpec spec(Map<String, String> caller, String... args) {
        RunCommand cmd = new RunCommand();
        cmd.callerEnv = caller;
        CommandLine cl = new CommandLine(cmd);
        cl.setStopAtPositional(true);
        cl.parseArgs(args);
        return cmd.toSpec();
    }

    @Test
    void envWithoutAValueComesFromTheLaunchersEnvironmentOrStaysUnset() {
        ContainerSpec s = spec(Map.of("FROM_CALLER", "caller's value", "EMPTY", ""),
                "--rootfs", "/r", "-e", "FROM_CALLER", "-e", "ABSENT", "-e", "EMPTY", "-e", "SET=x=y", "-e", "BLANK=", "true");
        assertThat(s.env()).containsExactly(Map.entry("FROM_CALLER", "caller's value"), Map.entry("EMPTY", ""),
                Map.entry("SET", "x=y"), Map.entry("BLANK", ""));
    }

    @Test
    void envFilesAreReadInOrderAndDashEHasTheLastWord(@TempDir Path dir) throws IOException {
        Path a = Files.writeString(dir.resolve("a.env"), "\uFEFF# comment\nA=1\n\n   \t\n  B= spaced value ' \"kept\"\r\n"
                + "FROM_CALLER\nABSENT\nC=# not a comment\nURL=http://x/?a=b#frag\n");
        Path b = Files.writeString(dir.resolve("b.env"), "A=2\nD=from b");
        ContainerSpec s = spec(Map.of("FROM_CALLER", "v"), "--rootfs", "/r", "--env-file", a.toString(),
                "--env-file", b.toString(), "-e", "D=from -e", "true");
        assertThat(s.env()).containsExactly(Map.entry("A", "2"), Map.entry("B", " spaced value ' \"kept\""),
                Map.entry("FROM_CALLER", "v"), Map.entry("C", "# not a comment"), Map.entry("URL", "http://x/?a=b#frag"),
                Map.entry("D", "from -e"));
    }

    @Test
    void badEnvFilesAreOneLineNamingTheFileAndTheLine(@TempDir Path dir) throws IOException {
        Map<String, String> cases = new java.util.LinkedHashMap<>();
        cases.put("OK=1\nMY VAR=x\n", ":2: variable name 'MY VAR' contains whitespace");
        cases.put("OK=1\n\n=value\n", ":3: no variable name before '='");
        cases.put("TRAILING \n", ":1: variable name 'TRAILING ' contains whitespace");
        cases.put("A=1\nB=x\u0000y\n", ":2: a NUL byte");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            Path f = Files.writeString(dir.resolve("bad.env"), c.getKey());
            String[] r = run("run", "--rootfs", "/r", "--env-file", f.toString(), "true");
            assertThat(r[0]).isEqualTo("125");
            assertThat(r[1].lines()).as(c.getKey()).singleElement().asString()
                    .startsWith("berth: --env-file " + f + c.getValue()).endsWith("(see 'berth run --help')");
        }
        Path latin1 = Files.write(dir.resolve("latin1.env"), new byte[] {'A', '=', 'o', 'k', '\n', 'B', '=', (byte) 0xe9, '\n'});
        assertThat(run("run", "--rootfs", "/r", "--env-file", latin1.toString(), "true")[1])
                .startsWith("berth: --env-file " + latin1 + ":2: not valid UTF-8");
        assertThat(run("run", "--rootfs", "/r", "--env-file", dir.resolve("missing.env").toString(), "true")[1])
                .isEqualTo("berth: --env-file " + dir.resolve("missing.env") + ": no such file (see 'berth run --help')\n");
        assertThat(run("run", "--rootfs", "/r", "--env-file", dir.toString(), "true")[1]).startsWith("berth: --env-file " + dir + ":")
                .hasLineCount(1);
    }

    @Test
    void addHostAndDnsOptionsAsDockerSpellsThem() {
        ContainerSpec s = spec(Map.of(), "--rootfs", "/r", "--add-host", "db:10.0.0.5", "--add-host", "v6:fd00::5",
                "--add-host", "eq=192.0.2.1", "--add-host", "br:[::1]", "--dns", "1.1.1.1", "--dns", "2606:4700:4700::1111",
                "--dns-search", "corp.example", "--dns-option", "ndots:2", "--dns-option", "edns0", "true");
        assertThat(s.extraHosts()).containsExactly(new ExtraHost("db", "10.0.0.5"), new ExtraHost("v6", "fd00::5"),
                new ExtraHost("eq", "192.0.2.1"), new ExtraHost("br", "::1"));
        assertThat(s.dns()).containsExactly("1.1.1.1", "2606:4700:4700::1111");
        assertThat(s.dnsSearch()).containsExactly("corp.example");
        assertThat(s.dnsOptions()).containsExactly("ndots:2", "edns0");
        assertThat(spec(Map.of(), "--rootfs", "/r", "--dns-search", ".", "true").dnsSearch()).containsExactly(".");
    }

    /** The exec spec {@code berth exec ARGS} would run, parsed without running it. */
    private static dev.berth.core.ExecSpec execSpec(Map<String, String> callerEnv, String... args) {
        ExecCommand cmd = new ExecCommand();
        CommandLine cl = new CommandLine(cmd);
        cl.setStopAtPositional(true);
        cl.parseArgs(args);
        cmd.callerEnv = callerEnv;
        return cmd.toSpec();
    }

    @Test
    void execOptionsEndAtTheContainerAndBecomeTheSpec(@TempDir Path tmp) throws IOException {
        Path envFile = Files.writeString(tmp.resolve("env"), "# comment\nA=file\nB=file\nFROM_CALLER\n");
        dev.berth.core.ExecSpec s = execSpec(Map.of("FROM_CALLER", "c", "K", "k"), "-u", "alice:staff", "-w", "/tmp",
                "--env-file", envFile.toString(), "-e", "B=flag", "-e", "K", "-e", "UNSET", "web", "sh", "-c", "echo -u -e");
        assertThat(s.command()).containsExactly("sh", "-c", "echo -u -e");
        assertThat(s.user()).contains("alice:staff");
        assertThat(s.workingDir()).contains("/tmp");
        assertThat(s.env()).containsExactly(Map.entry("A", "file"), Map.entry("B", "flag"), Map.entry("FROM_CALLER", "c"),
                Map.entry("K", "k"));
        assertThat(s.stdin()).isEqualTo(dev.berth.core.Stdio.discard());
        assertThat(execSpec(Map.of(), "-i", "web", "cat").stdin()).isEqualTo(dev.berth.core.Stdio.inherit());
        assertThat(execSpec(Map.of(), "-t", "web", "sh").tty()).isTrue();
    }

    @Test
    void execWithoutACommandOrWithABadOptionIsOneLineAndExit2() {
        String[] none = run("exec", "web");
        assertThat(none[0]).isEqualTo("125");
        assertThat(none[1]).isEqualTo("berth: Missing required parameter: 'CMD' (see 'berth exec --help')\n");
        String[] bad = run("exec", "-w", "tmp", "web", "sh");
        assertThat(bad[0]).isEqualTo("125");
        assertThat(bad[1]).isEqualTo("berth: workingDir: \"tmp\" must be an absolute path (see 'berth exec --help')\n");
        assertThat(run("exec", "--bogus", "web", "sh")[1]).isEqualTo("berth: Unknown option: '--bogus' (see 'berth exec --help')\n");
    }

    @Test
    void securityOptSeccompTakesAProfileFileOrUnconfined(@TempDir Path dir) throws IOException {
        assertThat(parse("--rootfs", "/r", "true").toSpec().seccomp().name()).isEqualTo("default");
        assertThat(parse("--security-opt", "seccomp=unconfined", "--rootfs", "/r", "true").toSpec().seccomp().isConfined())
                .isFalse();
        Path profile = Files.writeString(dir.resolve("mine.json"), "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}");
        ContainerSpec s = parse("--security-opt", "seccomp=" + profile, "--security-opt", "no-new-privileges=false",
                "--rootfs", "/r", "true").toSpec();
        assertThat(s.seccomp().name()).isEqualTo("mine.json");
        assertThat(s.noNewPrivileges()).isFalse();
        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"defaultAction\": \"SCMP_ACT_FOO\"}");
        assertThat(run("run", "--security-opt", "seccomp=" + bad, "--rootfs", "/r", "true")[1])
                .isEqualTo("berth: --security-opt seccomp=" + bad + ": seccomp profile bad.json: defaultAction: unknown "
                        + "action \"SCMP_ACT_FOO\" (see 'berth run --help')\n");
        assertThat(run("run", "--security-opt", "apparmor=x", "--rootfs", "/r", "true")[1])
                .startsWith("berth: --security-opt apparmor=x: unknown option");
        assertThat(run("run", "--security-opt", "seccomp=" + dir.resolve("missing.json"), "--rootfs", "/r", "true")[1])
                .startsWith("berth: --security-opt seccomp=" + dir.resolve("missing.json") + ": seccomp profile ");
    }

    @Test
    void networksAreCreatedListedAndRemovedAsDockerSpellsIt(@TempDir Path root) throws IOException {
        String r = root.toString();
        assertThat(run("network", "create", "--root", r, "--subnet", "10.123.0.0/24", "--subnet", "fd00:123::/64", "web")[0])
                .isEqualTo("0");
        String[] overlap = run("network", "create", "--root", r, "--subnet", "10.123.0.0/16", "db");
        assertThat(overlap[0]).isEqualTo("125");
        assertThat(overlap[1]).isEqualTo("berth: subnet: 10.123.0.0/16 overlaps network \"web\" (10.123.0.0/24)"
                + " (see 'berth network create --help')\n");
        assertThat(run("network", "create", "--root", r, "--gateway", "10.1.1.1", "gw")[1])
                .isEqualTo("berth: gateway: 10.1.1.1 needs a subnet (see 'berth network create --help')\n");
        assertThat(dev.berth.network.Networks.open(root).inspect("web").orElseThrow().ranges())
                .extracting(x -> x.subnet() + " " + dev.berth.network.Subnet.format(x.gateway()))
                .containsExactly("10.123.0.0/24 10.123.0.1", "fd00:123::/64 fd00:123::1");
        String[] rm = run("network", "rm", "--root", r, "web", "nope");
        assertThat(rm[0]).as("one of them failed").isEqualTo("1");
        assertThat(rm[1]).isEqualTo("berth: network rm nope: no such network\n");
        assertThat(dev.berth.network.Networks.open(root).list()).isEmpty();
    }

    @Test
    void runDetachedCapturesItsOutputWithTheLogLimitsGiven() {
        CommandLine cl = new CommandLine(new RunCommand()).setStopAtPositional(true); // as BerthCli sets it
        cl.parseArgs("-d", "--rm", "--log-max-size", "10m", "--log-max-files", "3", "img", "sh", "-c", "echo hi");
        ContainerSpec spec = ((RunCommand) cl.getCommand()).toSpec();
        assertThat(spec.detached()).isTrue();
        assertThat(spec.autoRemove()).isTrue();
        assertThat(spec.logging()).contains(dev.berth.core.LogConfig.of(10L << 20, 3));
        assertThat(spec.command()).containsExactly("sh", "-c", "echo hi");
        CommandLine defaults = new CommandLine(new RunCommand());
        defaults.parseArgs("-d", "img");
        assertThat(((RunCommand) defaults.getCommand()).toSpec().logging()).contains(dev.berth.core.LogConfig.DEFAULT);
        assertThat(run("run", "-d", "-i", "--rootfs", "/r", "true")[1]).startsWith("berth: -i: a detached container has no stdin");
        assertThat(run("run", "-d", "--log-max-files", "0", "--rootfs", "/r", "true")[1])
                .isEqualTo("berth: --log-max-files: 0; 1 to 100 (see 'berth run --help')\n");
        assertThat(run("run", "-d", "--log-max-size", "lots", "--rootfs", "/r", "true")[1]).startsWith("berth: --log-max-size: invalid size");
        assertThat(run("run", "--log-max-files", "2", "--rootfs", "/r", "true")[0]).isEqualTo("125");
    }

    @Test
    void uidmapAndGidmapMakeAUserNamespaceAsPodmanDoes() {
        dev.berth.core.UserNamespace both = parse("--uidmap", "0:100000:65536", "--rootfs", "/r", "id").toSpec()
                .userNamespace();
        assertThat(both.mode()).isEqualTo(dev.berth.core.UserNamespace.Mode.MAPPED);
        assertThat(both.uidMap()).containsExactly(dev.berth.core.IdMapping.of(0, 100000, 65536));
        assertThat(both.gidMap()).as("a uidmap alone maps the gids the same").isEqualTo(both.uidMap());
        dev.berth.core.UserNamespace two = parse("--uidmap", "0:100000:1000", "--uidmap", "1000:5000:1", "--gidmap",
                "0:200000:65536", "--rootfs", "/r", "id").toSpec().userNamespace();
        assertThat(two.uidMap()).containsExactly(dev.berth.core.IdMapping.of(0, 100000, 1000),
                dev.berth.core.IdMapping.of(1000, 5000, 1));
        assertThat(two.gidMap()).containsExactly(dev.berth.core.IdMapping.of(0, 200000, 65536));
        assertThat(parse("--gidmap", "0:300000:10", "--rootfs", "/r", "id").toSpec().userNamespace().uidMap())
                .containsExactly(dev.berth.core.IdMapping.of(0, 300000, 10));
        assertThat(parse("--rootfs", "/r", "id").toSpec().userNamespace().isHost()).isTrue();
    }

    @Test
    void aBadIdMapIsOneLineNamingTheOption() {
        String[] r = run("run", "--rootfs", "/r", "--uidmap", "0:100000", "true");
        assertThat(r[0]).isEqualTo("125");
        assertThat(r[1]).isEqualTo("berth: --uidmap: id mapping \"0:100000\": expected CONTAINER:HOST:SIZE"
                + " (see 'berth run --help')\n");
        String[] overlap = run("run", "--rootfs", "/r", "--uidmap", "0:100000:10", "--uidmap", "5:200000:10", "true");
        assertThat(overlap[1].lines()).singleElement().asString().startsWith("berth: --uidmap: uid map: lines");
        String[] gid = run("run", "--rootfs", "/r", "--uidmap", "0:1:2", "--gidmap", "x:1:2", "true");
        assertThat(gid[1]).startsWith("berth: --gidmap: id mapping \"x:1:2\"");
        String[] both = run("run", "--rootfs", "/r", "--userns=auto", "--uidmap", "0:1:2", "true");
        assertThat(both[1]).isEqualTo("berth: --uidmap: not with --userns (each gives the container's user namespace)"
                + " (see 'berth run --help')\n");
    }

    @Test
    void usernsSetsTheSpecsUserNamespace() {
        assertThat(spec(Map.of(), "--rootfs", "/r", "true").userNamespace()).isEqualTo(dev.berth.core.UserNamespace.host());
        assertThat(spec(Map.of(), "--userns=host", "--rootfs", "/r", "true").userNamespace())
                .isEqualTo(dev.berth.core.UserNamespace.host());
        assertThat(spec(Map.of(), "--userns", "auto", "--rootfs", "/r", "true").userNamespace())
                .isEqualTo(dev.berth.core.UserNamespace.auto());
        dev.berth.core.UserNamespace sized = spec(Map.of(), "--userns=auto:size=2048", "--rootfs", "/r", "true")
                .userNamespace();
        assertThat(sized).isEqualTo(dev.berth.core.UserNamespace.auto(2048));
        assertThat(sized.autoSize()).hasValue(2048);
    }

    @Test
    void badUsernsValuesAreOneLineUsageErrorsNamingTheOption() {
        String[][] cases = {
            {"keep-id", "--userns=keep-id: only supported for rootless Berth"},
            {"keep-id:uid=1", "--userns=keep-id:uid=1: only supported for rootless Berth"},
            {"bogus", "--userns=bogus: unknown mode (expected host, auto[:size=N] or keep-id)"},
            {"", "--userns=: unknown mode (expected host, auto[:size=N] or keep-id)"},
            {"host:x", "--userns=host:x: host takes no options"},
            {"auto:size=0", "--userns=auto:size=0: size must be a number from 1 to 4294967294"},
            {"auto:size=4294967295", "--userns=auto:size=4294967295: size must be a number from 1 to 4294967294"},
            {"auto:size=lots", "--userns=auto:size=lots: size must be a number from 1 to 4294967294"},
            {"auto:size", "--userns=auto:size: unknown auto option \"size\" (expected size=N)"},
            {"auto:uidmapping=0:1:2", "--userns=auto:uidmapping=0:1:2: unknown auto option \"uidmapping=0:1:2\""
                    + " (expected size=N)"},
            {"auto:size=1,size=2", "--userns=auto:size=1,size=2: size given twice"},
        };
        for (String[] c : cases) {
            String[] r = run("run", "--rootfs", "/r", "--userns=" + c[0], "true");
            assertThat(r[0]).as(c[0]).isEqualTo("125");
            assertThat(r[1]).as(c[0]).isEqualTo("berth: " + c[1] + " (see 'berth run --help')\n");
        }
    }

    private static dev.berth.core.Preflight.Report sampleReport() {
        dev.berth.core.Preflight.Section host = dev.berth.core.Preflight.Section.HOST;
        dev.berth.core.Preflight.Section security = dev.berth.core.Preflight.Section.SECURITY;
        return new dev.berth.core.Preflight.Report(java.util.List.of(
                dev.berth.core.Preflight.Check.ok("kernel", host, "6.18.44"),
                dev.berth.core.Preflight.Check.of("cgroupVersion", host, dev.berth.core.Preflight.Status.WARNING,
                        "hybrid: v1 controllers cpu memory", "boot with systemd.unified_cgroup_hierarchy=1"),
                dev.berth.core.Preflight.Check.ok("rootless", security, "false (euid 0)"),
                dev.berth.core.Preflight.Check.of("idmappedMounts", security, dev.berth.core.Preflight.Status.UNKNOWN,
                        "no unshare (util-linux) on PATH", "install util-linux")), false);
    }

    @Test
    void infoPrintsPodmansLayout() {
        assertThat(InfoCommand.human(sampleReport())).isEqualTo("""
                host:
                  kernel: 6.18.44
                  cgroupVersion: hybrid: v1 controllers cpu memory
                    status: warning
                    fix: boot with systemd.unified_cgroup_hierarchy=1
                security:
                  rootless: false (euid 0)
                  idmappedMounts: no unshare (util-linux) on PATH
                    status: unknown
                    fix: install util-linux
                """);
    }

    @Test
    void infoPrintsJson() throws Exception {
        com.fasterxml.jackson.databind.JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(InfoCommand.json(sampleReport()));
        assertThat(j.path("host").path("kernel").path("status").asText()).isEqualTo("ok");
        assertThat(j.path("host").path("kernel").has("fix")).isFalse();
        assertThat(j.path("host").path("cgroupVersion").path("fix").asText())
                .isEqualTo("boot with systemd.unified_cgroup_hierarchy=1");
        assertThat(j.path("security").path("idmappedMounts").path("status").asText()).isEqualTo("unknown");
        java.util.List<String> names = new java.util.ArrayList<>();
        j.path("security").fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("rootless", "idmappedMounts");
    }

    @Test
    void infoRunsTheRealPreflightAndExitsZero() throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = BerthCli.execute("info", "--format", "json");
        } finally {
            System.setOut(saved);
        }
        assertThat(code).isZero();
        com.fasterxml.jackson.databind.JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.toByteArray());
        assertThat(j.path("host").path("kernel").path("found").asText()).isEqualTo(System.getProperty("os.version"));
        assertThat(j.path("security").path("rootless").path("status").asText()).isEqualTo("ok");
        assertThat(j.path("security").has("idmappedMounts")).isTrue();
        String[] bad = run("info", "--format", "yaml");
        assertThat(bad[0]).isEqualTo("125");
        assertThat(bad[1]).isEqualTo("berth: --format: \"yaml\" is not a format (json) (see 'berth info --help')\n");
    }
}
