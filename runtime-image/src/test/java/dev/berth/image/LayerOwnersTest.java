package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The owners list: a round trip, the file's place and removal, and every malformed file refused with its name. */
class LayerOwnersTest {
  @TempDir Path tmp;

  Path layer() throws IOException {
    return Files.createDirectories(tmp.resolve("layers/sha256/abc"));
  }

  @Test
  void roundTripKeepsOrderOwnersAndSpecialBits() throws IOException {
    Path layer = layer();
    List<LayerOwners.Entry> entries = List.of(
        new LayerOwners.Entry(".", 7, 7, 0755),
        new LayerOwners.Entry("var/www", 33, 33, 0750),
        new LayerOwners.Entry("usr/bin/su-like", 1000, 1000, 04755),
        new LayerOwners.Entry("etc/shadow", 0, 42, 02640),
        new LayerOwners.Entry("tmp/ünïcode \"quoted\"\n", 65534, 65534, 01777),
        new LayerOwners.Entry("big", Integer.MAX_VALUE, Integer.MAX_VALUE, 0));
    LayerOwners.write(layer, entries);
    assertThat(LayerOwners.fileFor(layer)).isEqualTo(tmp.resolve("layers/sha256/abc.owners.json")).isRegularFile();
    assertThat(LayerOwners.read(layer)).containsExactlyElementsOf(entries);
    // no temporary left beside it
    try (var s = Files.list(layer.getParent())) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("abc", "abc.owners.json");
    }
  }

  @Test
  void emptyListRemovesTheFileAndAbsentReadsEmpty() throws IOException {
    Path layer = layer();
    assertThat(LayerOwners.read(layer)).isEmpty();
    LayerOwners.write(layer, List.of(new LayerOwners.Entry("a", 1, 1, 0644)));
    LayerOwners.write(layer, List.of());
    assertThat(LayerOwners.fileFor(layer)).doesNotExist();
    assertThat(LayerOwners.read(layer)).isEmpty();
  }

  @Test
  void manyEntriesRoundTrip() throws IOException {
    Path layer = layer();
    List<LayerOwners.Entry> entries = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      entries.add(new LayerOwners.Entry("d/f" + i, i + 1, i % 7, i & 07777));
    }
    LayerOwners.write(layer, entries);
    assertThat(LayerOwners.read(layer)).isEqualTo(entries);
  }

  @Test
  void unknownFieldsAreSkipped() throws IOException {
    Path layer = layer();
    Files.writeString(LayerOwners.fileFor(layer),
        "[{\"x\":{\"deep\":[1,2,{\"y\":null}]},\"path\":\"a\",\"uid\":5,\"gid\":6,\"mode\":420,\"later\":[]}]");
    assertThat(LayerOwners.read(layer)).containsExactly(new LayerOwners.Entry("a", 5, 6, 0644));
  }

  @Test
  void malformedFilesAreRefusedNamingTheFile() throws IOException {
    Path layer = layer();
    Path file = LayerOwners.fileFor(layer);
    List<String[]> cases = List.of(
        new String[] {"{}", "expected START_ARRAY"},
        new String[] {"", "expected START_ARRAY"},
        new String[] {"[1]", "expected START_OBJECT"},
        new String[] {"[{\"path\":\"a\",\"uid\":1,\"gid\":1}]", "lacks path, uid, gid or mode"},
        new String[] {"[{\"path\":1,\"uid\":1,\"gid\":1,\"mode\":1}]", "expected VALUE_STRING"},
        new String[] {"[{\"path\":\"a\",\"uid\":\"1\",\"gid\":1,\"mode\":1}]", "expected VALUE_NUMBER_INT"},
        new String[] {"[{\"path\":\"a\",\"uid\":1.5,\"gid\":1,\"mode\":1}]", "expected VALUE_NUMBER_INT"},
        new String[] {"[{\"path\":\"a\",\"uid\":-1,\"gid\":1,\"mode\":1}]", "uid -1 out of range"},
        new String[] {"[{\"path\":\"a\",\"uid\":1,\"gid\":4294967296,\"mode\":1}]", "gid 4294967296 out of range"},
        new String[] {"[{\"path\":\"a\",\"uid\":1,\"gid\":99999999999999999999,\"mode\":1}]", "a"},
        new String[] {"[{\"path\":\"a\",\"uid\":3000000000,\"gid\":1,\"mode\":1}]", "negative owner"},
        new String[] {"[{\"path\":\"a\",\"uid\":1,\"gid\":1,\"mode\":4096}]", "bits outside 07777"},
        new String[] {"[{\"path\":\"/etc/passwd\",\"uid\":1,\"gid\":1,\"mode\":1}]", "not a relative path"},
        new String[] {"[{\"path\":\"\",\"uid\":1,\"gid\":1,\"mode\":1}]", "not a relative path"},
        new String[] {"[{\"path\":\"a/../../etc\",\"uid\":1,\"gid\":1,\"mode\":1}]", "`..` component"},
        new String[] {"[{\"path\":\"..\",\"uid\":1,\"gid\":1,\"mode\":1}]", "`..` component"},
        new String[] {"[{\"path\":\"a\\u0000b\",\"uid\":1,\"gid\":1,\"mode\":1}]", "not a relative path"},
        new String[] {"[{\"path\":\"a\",\"uid\":1,\"gid\":1,\"mode\":1}", "Unexpected end-of-input"},
        new String[] {"[{\"path\":\"a\",\"uid\":1,\"gid\":1,\"mode\":1}]]garbage", ""});
    for (String[] c : cases) {
      Files.writeString(file, c[0]);
      if (c[0].endsWith("garbage")) {
        // trailing bytes after the array are not read: the list is complete without them
        assertThat(LayerOwners.read(layer)).as(c[0]).hasSize(1);
        continue;
      }
      assertThatThrownBy(() -> LayerOwners.read(layer)).as(c[0]).isInstanceOf(IOException.class)
          .hasMessageContaining(c[1]).hasMessageContaining(file.getFileName().toString());
    }
  }

  @Test
  void entryRefusesWhatTheListCannotHold() {
    assertThatThrownBy(() -> new LayerOwners.Entry("a/..", 1, 1, 0)).hasMessageContaining("`..` component");
    assertThatThrownBy(() -> new LayerOwners.Entry("a", -1, 1, 0)).hasMessageContaining("negative owner");
    assertThatThrownBy(() -> new LayerOwners.Entry("a", 1, 1, 010000)).hasMessageContaining("10000");
    assertThat(new LayerOwners.Entry("a/..b/c..", 1, 1, 0).path()).isEqualTo("a/..b/c..");
  }
}
