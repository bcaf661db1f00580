package dev.berth.linux.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcStatusTest {
    private static final String STATUS = "Name:\tjava\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\n"
            + "Uid:\t1000\t1002\t1003\t1004\nGid:\t100\t102\t103\t104\nFDSize:\t256\nGroups:\t27 100\n";

    @Test
    void theFourIdsOfTheUidAndGidLines() {
        assertThat(ProcStatus.uids(STATUS)).contains(new ProcStatus.Ids(1000, 1002, 1003, 1004));
        assertThat(ProcStatus.gids(STATUS)).contains(new ProcStatus.Ids(100, 102, 103, 104));
        assertThat(ProcStatus.uids("Uid:\t0\t0\t0\t0").orElseThrow().effective()).as("no trailing newline").isZero();
        assertThat(ProcStatus.uids("Uid: 4294967295 1 1 1").orElseThrow().real()).as("(uid_t) -1 as the kernel prints it")
                .isEqualTo(4294967295L);
    }

    @Test
    void aMissingLineIsEmpty() {
        assertThat(ProcStatus.uids("")).isEmpty();
        assertThat(ProcStatus.uids("Name:\tjava\nGid:\t0\t0\t0\t0\n")).isEmpty();
        assertThat(ProcStatus.gids("Name:\tjava\nUid:\t0\t0\t0\t0\n")).isEmpty();
        assertThat(ProcStatus.uids("NoUid:\t0\t0\t0\t0\n")).as("only a line that starts with Uid:").isEmpty();
    }

    @Test
    void aMalformedLineIsNamed() {
        assertThatThrownBy(() -> ProcStatus.uids("Uid:\tx\ty\n")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Uid: line \"Uid:\tx\ty\" is not four ids (real, effective, saved, filesystem)");
        assertThatThrownBy(() -> ProcStatus.uids("Uid:\t1000\t1000\n")).hasMessageContaining("is not four ids");
        assertThatThrownBy(() -> ProcStatus.uids("Uid:\t1\t2\t3\t4\t5\n")).hasMessageContaining("is not four ids");
        assertThatThrownBy(() -> ProcStatus.gids("Gid:\t-1\t0\t0\t0\n")).hasMessageStartingWith("Gid: line");
        assertThatThrownBy(() -> ProcStatus.uids("Uid:\t4294967296\t0\t0\t0\n")).as("beyond 32 bits")
                .hasMessageContaining("is not four ids");
        assertThatThrownBy(() -> ProcStatus.uids("Uid:\n")).hasMessageContaining("is not four ids");
    }

    @Test
    void aStatusFileIsReadAndItsFaultsNameIt(@TempDir Path tmp) throws IOException {
        Path ok = Files.writeString(tmp.resolve("ok"), STATUS);
        assertThat(ProcStatus.uidsOf(ok)).isEqualTo(new ProcStatus.Ids(1000, 1002, 1003, 1004));
        Path none = Files.writeString(tmp.resolve("none"), "Name:\tjava\n");
        assertThatThrownBy(() -> ProcStatus.uidsOf(none)).isInstanceOf(IOException.class)
                .hasMessage(none + ": no Uid: line");
        Path bad = Files.writeString(tmp.resolve("bad"), "Uid:\t1\n");
        assertThatThrownBy(() -> ProcStatus.uidsOf(bad)).isInstanceOf(IOException.class)
                .hasMessageStartingWith(bad + ": Uid: line \"Uid:\t1\" is not four ids");
        assertThatThrownBy(() -> ProcStatus.uidsOf(tmp.resolve("gone"))).isInstanceOf(IOException.class)
                .hasMessage(tmp.resolve("gone") + ": no such file");
    }

    @Test
    void thisProcessIsTheKernelsAnswer() throws IOException {
        ProcStatus.Ids mine = ProcStatus.uidsOf(ProcStatus.SELF);
        assertThat(ProcStatus.effectiveUid()).isEqualTo(mine.effective());
        assertThat(ProcStatus.isRoot()).isEqualTo(mine.effective() == 0);
        assertThat(ProcStatus.effectiveGid()).isEqualTo(ProcStatus.gids(Files.readString(ProcStatus.SELF))
                .orElseThrow().effective());
        // the owner of a file this process makes is its filesystem uid, the effective one unless changed
        Path made = Files.createTempFile("procstatus", "");
        try {
            assertThat(((Number) Files.getAttribute(made, "unix:uid")).longValue()).isEqualTo(mine.effective());
        } finally {
            Files.delete(made);
        }
    }
}
