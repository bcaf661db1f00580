package dev.berth.image.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.internal.DeferredSync.Action;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeferredSyncTest {
  @TempDir Path tmp;

  long pendingCount(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.count();
    }
  }

  @Test
  void intentIsOnDiskBeforeTheCommitAndGoneOnceDurable() throws IOException {
    Path root = tmp.resolve("store");
    Path pending = root.resolve("pending");
    try (DeferredSync sync = new DeferredSync(root, pending, "boot-a")) {
      sync.awaitDurable(); // nothing committed: returns at once
      Path object = root.resolve("blobs/sha256/abc");
      List<List<String>> seenDuringCommit = new java.util.ArrayList<>();
      sync.commit(List.of(Action.remove(root, object)), () -> {
        try (Stream<Path> s = Files.list(pending)) {
          for (Path f : s.toList()) {
            seenDuringCommit.add(Files.readAllLines(f));
          }
        }
      });
      assertThat(seenDuringCommit).containsExactly(List.of("boot boot-a", "remove blobs/sha256/abc", "end"));
      sync.awaitDurable();
      assertThat(pendingCount(pending)).isZero();
    }
  }

  @Test
  void aFailedCommitIsStillSyncedAndItsErrorKept() throws IOException {
    Path root = tmp.resolve("store");
    Path pending = root.resolve("pending");
    try (DeferredSync sync = new DeferredSync(root, pending, "boot-a")) {
      assertThatThrownBy(() -> sync.commit(List.of(Action.remove(root, root.resolve("refs/x"))), () -> {
        throw new IOException("rename failed half-way");
      })).hasMessage("rename failed half-way");
      sync.awaitDurable();
      assertThat(pendingCount(pending)).as("what it renamed before failing is on disk now").isZero();
    }
  }

  @Test
  void actionsRefuseObjectsOutsideTheStore() {
    Path root = tmp.resolve("store");
    assertThatThrownBy(() -> Action.remove(root, tmp.resolve("elsewhere")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not inside the store");
    assertThatThrownBy(() -> Action.restore(root, root.resolve("refs/x"), "two\nlines"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one line");
  }

  @Test
  void recoveryUndoesEarlierBootsAndIgnoresWhatItCannotTrust() throws IOException {
    Path root = tmp.resolve("store");
    Path pending = root.resolve("pending");
    Files.createDirectories(pending);
    String aaa = "a".repeat(64);
    String bbb = "b".repeat(64);
    Files.createDirectories(root.resolve("layers/sha256/" + aaa + "/etc"));
    Files.writeString(root.resolve("layers/sha256/" + aaa + "/etc/f"), "x");
    Files.createDirectories(root.resolve("layers/sha256/" + bbb));
    Files.createDirectories(root.resolve("refs"));
    Files.writeString(root.resolve("refs/app"), "sha256:new\n");
    Files.writeString(tmp.resolve("sentinel"), "host");
    Files.writeString(pending.resolve("1.intent"), "boot old\nremove layers/sha256/" + aaa + "\nrestore refs/app sha256:old\n"
        + "remove ../sentinel\nremove /etc/passwd\nchmod refs/app\nremove layers/sha256/" + "c".repeat(64) + "\n"
        + "remove layers\nremove layers/sha256\nend\n");
    Files.writeString(pending.resolve("2.intent"), ""); // torn before its first line: nothing was renamed
    // torn mid-line (no end line): must not be acted on, although it names an existing layer
    Files.writeString(pending.resolve("4.intent"), "boot old\nremove layers/sha256/" + bbb + "\nremove lay");
    Files.writeString(pending.resolve("3.intent"), "boot now\nremove refs/app\nend\n"); // this boot: kept

    assertThat(DeferredSync.recover(root, pending, "now")).isEqualTo(2);

    assertThat(root.resolve("layers/sha256/" + aaa)).doesNotExist();
    assertThat(root.resolve("layers/sha256/" + bbb)).as("named only by a torn intent").isDirectory();
    assertThat(root.resolve("refs/app")).hasContent("sha256:old");
    assertThat(tmp.resolve("sentinel")).hasContent("host");
    assertThat(Path.of("/etc/passwd")).exists();
    assertThat(pendingCount(pending)).isZero();
    try (Stream<Path> s = Files.list(root.resolve("layers/sha256"))) {
      assertThat(s.map(p -> p.getFileName().toString()).toList()).as("no .tmp-rm leftovers").containsExactly(bbb);
    }
  }
}
