package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.linux.internal.ProcStatus;
import dev.berth.testing.Preconditions;
import dev.berth.image.Fixtures.Tar;
import dev.berth.image.MediaTypes.Compression;
import dev.berth.image.internal.LayerUnpacker;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** User resolution reads the image's passwd/group root-scoped and bounded (CVE-2024-9676). */
class ImageUsersTest {
  @TempDir Path tmp;
  int n;

  static final String PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n";
  static final String GROUP = "root:x:0:\napp:x:1001:\nextra:x:2000:other,app\n";

  /** Unpacks layers (given base first) and returns them top-most first, like PreparedImage. */
  List<Path> layers(byte[]... tarsBaseFirst) throws IOException {
    List<Path> out = new ArrayList<>();
    for (byte[] t : tarsBaseFirst) {
      Path l = Files.createDirectory(tmp.resolve("l" + (n++)));
      LayerUnpacker.unpack(new ByteArrayInputStream(t), Compression.NONE, Digest.sha256Of(t), l, UnpackLimits.DEFAULTS, "t");
      out.add(0, l);
    }
    return out;
  }

  byte[] base() {
    return new Tar().dir("etc").file("etc/passwd", PASSWD).file("etc/group", GROUP).bytes();
  }

  @Test
  void hostileFileContentsAreParsedSafely() throws IOException {
    String passwd = "\0\0\0\n"
        + "x".repeat(200_000) + ":x:0:0::/:/bin/sh\n"   // absurdly long line
        + "evil:x:-1:0::/:/bin/sh\n"                    // negative id
        + "evil2:x:99999999999:0::/:/bin/sh\n"           // out of range
        + "evil3:x:4294967295:0::/:/bin/sh\n"            // (uid_t)-1 is reserved
        + "short:x:5\n"                                  // missing fields
        + "crlf:x:7:7::/crlf:/bin/sh\r\n"
        + "#comment:x:8:8::/:/bin/sh\n"
        + "ok:x:9:9::/ok:/bin/sh\n"
        + "big:x:4294967294:9::/big:/bin/sh\n";          // the largest valid uid
    String group = "g:x:notanumber:ok\nmembers:x:10:,,ok,,\n";
    List<Path> l = layers(new Tar().dir("etc").file("etc/passwd", passwd).file("etc/group", group).bytes());
    for (String bad : List.of("evil", "evil2", "evil3", "short", "#comment")) {
      assertThatThrownBy(() -> ImageUsers.resolve(l, bad)).as(bad).hasMessageContaining("unable to find user " + bad);
    }
    assertThat(ImageUsers.resolve(l, "ok")).isEqualTo(new ImageUsers.User(9, 9, List.of(10), "/ok"));
    assertThat(ImageUsers.resolve(l, "crlf").home()).isEqualTo("/crlf");
    assertThat(Integer.toUnsignedLong(ImageUsers.resolve(l, "big").uid())).isEqualTo(4294967294L);
  }

  @Test
  void namesAndNumbers() throws IOException {
    List<Path> l = layers(base());
    assertThat(ImageUsers.resolve(l, "app")).isEqualTo(new ImageUsers.User(1000, 1001, List.of(2000), "/home/app"));
    assertThat(ImageUsers.resolve(l, "app:extra")).isEqualTo(new ImageUsers.User(1000, 2000, List.of(), "/home/app"));
    assertThat(ImageUsers.resolve(l, "1000").gid()).isEqualTo(1001);
    assertThat(ImageUsers.resolve(l, "4242")).isEqualTo(new ImageUsers.User(4242, 0, List.of(), "/"));
    assertThat(ImageUsers.resolve(l, "5:7")).isEqualTo(new ImageUsers.User(5, 7, List.of(), "/"));
    assertThat(ImageUsers.resolve(l, "")).isEqualTo(new ImageUsers.User(0, 0, List.of(), "/root"));
    assertThatThrownBy(() -> ImageUsers.resolve(l, "nobody")).hasMessageContaining("unable to find user nobody");
    assertThatThrownBy(() -> ImageUsers.resolve(l, "app:nogroup")).hasMessageContaining("unable to find group nogroup");
  }

  @Test
  void upperLayerWinsAndWhiteoutHides() throws IOException {
    Preconditions.require(ProcStatus.isRoot(), "whiteouts need root");
    List<Path> replaced = layers(base(), new Tar().dir("etc").file("etc/passwd", "app:x:7:8::/:/bin/sh\n").bytes());
    assertThat(ImageUsers.resolve(replaced, "app").uid()).isEqualTo(7);
    List<Path> deleted = layers(base(), new Tar().dir("etc").file("etc/.wh.passwd", "").bytes());
    assertThatThrownBy(() -> ImageUsers.resolve(deleted, "app")).hasMessageContaining("unable to find user");
    List<Path> opaque = layers(base(), new Tar().dir("etc").file("etc/.wh..wh..opq", "").file("etc/group", GROUP).bytes());
    assertThatThrownBy(() -> ImageUsers.resolve(opaque, "app")).hasMessageContaining("unable to find user");
  }

  @Test
  void symlinkToHostPathReadsNothingOfTheHost() throws IOException {
    Path host = Files.writeString(tmp.resolve("host-passwd"), "evil:x:0:0::/:/bin/sh\n");
    List<Path> l = layers(new Tar().dir("etc").symlink("etc/passwd", host.toString()).bytes());
    assertThatThrownBy(() -> ImageUsers.resolve(l, "evil")).hasMessageContaining("unable to find user evil");
    List<Path> up = layers(new Tar().dir("etc").symlink("etc/passwd", "../../../../../../../.." + host).bytes());
    assertThatThrownBy(() -> ImageUsers.resolve(up, "evil")).hasMessageContaining("unable to find user evil");
  }

  @Test
  void symlinkAcrossLayersFollowedInsideTheImage() throws IOException {
    List<Path> l = layers(
        new Tar().dir("usr").dir("usr/share").file("usr/share/passwd", PASSWD).dir("etc").file("etc/real-group", GROUP).bytes(),
        new Tar().dir("etc").symlink("etc/passwd", "/usr/share/passwd").symlink("etc/group", "../../../etc/real-group").bytes());
    assertThat(ImageUsers.resolve(l, "app")).isEqualTo(new ImageUsers.User(1000, 1001, List.of(2000), "/home/app"));
  }

  @Test
  void fifoPasswdRefusedWithoutBlocking() throws IOException {
    List<Path> l = layers(new Tar().dir("etc").fifo("etc/passwd").bytes());
    Assertions.assertTimeoutPreemptively(Duration.ofSeconds(5), () ->
        assertThatThrownBy(() -> ImageUsers.resolve(l, "app")).hasMessageContaining("not a regular file"));
  }

  @Test
  void hugePasswdRefused() throws IOException {
    String big = "x".repeat(ImageUsers.MAX_FILE + 10);
    List<Path> l = layers(new Tar().dir("etc").file("etc/passwd", big).bytes());
    assertThatThrownBy(() -> ImageUsers.resolve(l, "app")).hasMessageContaining("larger than");
  }

  @Test
  void symlinkLoopRefused() throws IOException {
    List<Path> l = layers(new Tar().dir("etc").symlink("etc/passwd", "/etc/loop").symlink("etc/loop", "/etc/passwd").bytes());
    assertThatThrownBy(() -> ImageUsers.resolve(l, "app")).hasMessageContaining("too many levels");
  }
}
