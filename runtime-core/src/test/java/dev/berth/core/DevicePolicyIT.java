package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cgroups.DeviceRule;
import dev.berth.cgroups.Resources;
import dev.berth.core.testing.ContainerTestSupport;
import dev.berth.core.testing.HostCommand;
import dev.berth.core.testing.LoopDevice;
import dev.berth.testing.RequiresRoot;
import dev.berth.core.testing.TestRootfs;
import dev.berth.testing.Preconditions;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A container opens no device node but the ones it is granted, whether it makes the node itself
 * (CAP_MKNOD is in the default set) or the root ships it. Proven with a loop device over a file
 * holding a secret: the device cgroup refuses nodes made in /dev (the BPF device program on the
 * container's v2 directory, on this hybrid host and in {@link DevicePolicyV2IT}'s VM), and the
 * root's nodev refuses shipped ones
 * even where the cgroup would allow them.
 */
@RequiresRoot
class DevicePolicyIT extends ContainerTestSupport {
    static LoopDevice loop;

    @BeforeAll
    static void attachLoop() throws Exception {
        Preconditions.requireTool("losetup", "mount");
        loop = LoopDevice.attach(tmp);
    }

    @AfterAll
    static void detachLoop() throws Exception {
        if (loop != null) {
            loop.close();
        }
    }

    private static String loopNumbers() {
        return loop.major + " " + loop.minor;
    }

    @Test
    void aNodeTheContainerMakesCannotBeOpened() throws Exception {
        String[] mm = loopNumbers().split(" ");
        Result r = run(probe("mknod", "/dev/x", "b", mm[0], mm[1], "--", "read", "/dev/x", "22", "--",
                "overwrite", "/dev/x", "OWNED"));
        assertThat(r.stdout()).contains("mknod /dev/x: ok", "open /dev/x: Operation not permitted")
                .doesNotContain(LoopDevice.SECRET, "wrote");
        assertThat(r.stdout().lines().filter(l -> l.equals("open /dev/x: Operation not permitted"))).hasSize(2);
        assertThat(loop.content(LoopDevice.SECRET.length())).isEqualTo(LoopDevice.SECRET);
    }

    @Test
    void noHostDeviceOpensWhateverItsNumber() throws Exception {
        String[][] nodes = {{"kvm", "c", "10", "232"}, {"tty0", "c", "4", "0"}, {"console", "c", "5", "1"},
            {"hwrng", "c", "10", "183"}, {"fuse", "c", "10", "229"}, {"loop-control", "c", "10", "237"},
            {"mem", "c", "1", "1"}, {"kmsg", "c", "1", "11"}, {"sda", "b", "8", "0"}, {"vda", "b", "254", "0"}};
        for (String[] n : nodes) {
            Result r = run(probe("mknod", "/dev/" + n[0], n[1], n[2], n[3], "--", "read", "/dev/" + n[0], "1"));
            assertThat(r.stdout()).as(n[0]).contains("mknod /dev/" + n[0] + ": ok",
                    "open /dev/" + n[0] + ": Operation not permitted");
        }
    }

    @Test
    void theDefaultNodesWork() throws Exception {
        Result r = run(probe("read", "/dev/zero", "1", "--", "read", "/dev/urandom", "1", "--", "overwrite", "/dev/null",
                "x", "--", "overwrite", "/dev/full", "x"));
        assertThat(r.stdout()).contains("read /dev/zero: ", "read /dev/urandom: ", "wrote /dev/null: 1",
                "write /dev/full: No space left on device").doesNotContain("Operation not permitted");
    }

    @Test
    void aGrantedDeviceOpensWithTheGrantedAccess() throws Exception {
        Result rw = run(probe("read", "/dev/xvdc", "22", "--", "overwrite", "/dev/xvdc", "WRITTEN-BY-CONTAINER")
                .device(Device.fromHost(loop.node, "/dev/xvdc", "rw")));
        assertThat(rw.stdout()).contains("read /dev/xvdc: " + LoopDevice.SECRET, "wrote /dev/xvdc: 20");
        assertThat(loop.content(20)).isEqualTo("WRITTEN-BY-CONTAINER");
        Files.write(loop.file, LoopDevice.SECRET.getBytes(), java.nio.file.StandardOpenOption.WRITE);
        HostCommand.run("blockdev", "--flushbufs", loop.node.toString());

        Result ro = run(probe("read", "/dev/ro", "3", "--", "overwrite", "/dev/ro", "NO")
                .device(Device.fromHost(loop.node, "/dev/ro", "r")));
        assertThat(ro.stdout()).contains("read /dev/ro: ", "open /dev/ro: Operation not permitted");
        assertThat(loop.content(3)).isNotEqualTo("NO");
    }

    @Test
    void theSpecsOwnRulesHaveTheLastWord() throws Exception {
        Result r = run(probe("read", "/dev/zero", "1")
                .resources(Resources.builder().deviceRule(DeviceRule.deny(DeviceRule.Type.CHAR, 1, 5, "r")).build()));
        assertThat(r.stdout()).contains("open /dev/zero: Operation not permitted");
    }

    @Test
    void aNodeShippedInTheRootDoesNotOpenEvenWhereTheCgroupAllowsIt() throws Exception {
        Path root = tmp.resolve("root-with-node");
        HostCommand.run("cp", "-a", TestRootfs.path() + "/.", Files.createDirectories(root).toString());
        String[] mm = loopNumbers().split(" ");
        HostCommand.run("mknod", "-m", "666", root.resolve("x").toString(), "b", mm[0], mm[1]);
        Result r = run(probe("read", "/x", "22", "--", "overwrite", "/x", "OWNED").rootfs(root)
                .device(Device.fromHost(loop.node, "/dev/granted", "rwm")));
        assertThat(r.stdout()).contains("open /x: Permission denied").doesNotContain(LoopDevice.SECRET, "wrote");
        assertThat(loop.content(LoopDevice.SECRET.length())).isEqualTo(LoopDevice.SECRET);
    }

    @Test
    void withoutADeviceCgroupTheContainerCannotMakeNodes() throws Exception {
        try (ContainerRuntime bare = ContainerRuntime.builder().stateRoot(tmp.resolve("bare-state"))
                .storageRoot(tmp.resolve("bare-storage")).cgroups(false).build();
                Container c = bare.start(probe("mknod", "/dev/x", "b", "7", "0", "--", "read", "/dev/null", "1",
                        "--", "read", "/dev/granted", "1")
                        .device(Device.fromHost(loop.node, "/dev/granted", "r")).build())) {
            String out = new String(c.stdout().readAllBytes());
            assertThat(out).contains("mknod /dev/x: Operation not permitted", "read /dev/null: ",
                    "read /dev/granted: T");
            c.onExit().join();
        }
    }
}
