package dev.berth.image.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.Digest;
import dev.berth.image.Fixtures;
import dev.berth.image.Fixtures.Tar;
import dev.berth.image.LayerOwners;
import dev.berth.image.MediaTypes.Compression;
import dev.berth.image.UnpackLimits;
import dev.berth.image.UnsafeLayerException;
import dev.berth.image.internal.linux.LinuxFs;
import dev.berth.image.internal.linux.LinuxFs.Stat;
import dev.berth.linux.internal.ProcStatus;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The decisions of a rootless unpack, made whoever runs the test (the unpacker is told it is
 * rootless, as a store opened by an ordinary user tells it): nothing chowned, the owners the tar
 * named listed with their bits, devices as empty mode-0 files, whiteouts as char 0:0, opaque
 * directories marked with user.overlay.opaque, image overlay xattrs escaped, privileged ones dropped.
 */
class RootlessUnpackTest {
  @TempDir Path base;

  LayerUnpacker.Result unpack(byte[] tar) throws IOException {
    Path layer = base.resolve("layer");
    Files2.deleteTree(layer);
    Files.createDirectory(layer);
    return LayerUnpacker.unpack(new ByteArrayInputStream(tar), Compression.NONE, Digest.sha256Of(tar), layer,
        UnpackLimits.DEFAULTS, "test", true);
  }

  Path in(String p) {
    return base.resolve("layer").resolve(p);
  }

  static Stat lstat(Path p) throws IOException {
    return LinuxFs.lstatat(LinuxFs.AT_FDCWD, p.toString());
  }

  @Test
  void ownersOtherThanRootAreListedAndNothingIsChowned() throws IOException {
    byte[] x = "x".getBytes(StandardCharsets.UTF_8);
    TarArchiveEntry link = Fixtures.owned("var/www/link", TarArchiveEntry.LF_SYMLINK, 33, 33, 0777);
    link.setLinkName("index.html");
    TarArchiveEntry hard = Fixtures.owned("usr/bin/su-hard", TarArchiveEntry.LF_LINK, 1000, 1000, 04755);
    hard.setLinkName("usr/bin/su-user");
    byte[] tar = new Tar()
        .ownedDir("./", 7, 7, 0755)
        .ownedDir("var/", 0, 0, 0755)
        .ownedDir("var/www/", 33, 33, 0750)
        .ownedFile("var/www/index.html", 33, 33, 0640, x)
        .entry(link, null)
        .ownedDir("usr/", 0, 0, 0755)
        .ownedDir("usr/bin/", 0, 0, 0755)
        .ownedFile("usr/bin/su-root", 0, 0, 04755, x)
        .ownedFile("usr/bin/su-user", 1000, 1000, 04755, x)
        .entry(hard, null)
        .ownedFile("etc-shadow", 0, 42, 02640, x)
        .bytes();
    LayerUnpacker.Result r = unpack(tar);
    assertThat(r.owners()).containsExactly(
        new LayerOwners.Entry(".", 7, 7, 0755),
        new LayerOwners.Entry("var/www", 33, 33, 0750),
        new LayerOwners.Entry("var/www/index.html", 33, 33, 0640),
        new LayerOwners.Entry("var/www/link", 33, 33, 0777),
        new LayerOwners.Entry("usr/bin/su-user", 1000, 1000, 04755),
        new LayerOwners.Entry("etc-shadow", 0, 42, 02640));
    int me = (int) ProcStatus.effectiveUid();
    for (String p : new String[] {"var/www", "var/www/index.html", "var/www/link", "usr/bin/su-root", "usr/bin/su-user",
        "etc-shadow"}) {
      assertThat(lstat(in(p)).uid()).as("owner of " + p).isEqualTo(me);
    }
    // the bits are on disk too (the user's own files may carry setuid and setgid)
    assertThat(lstat(in("usr/bin/su-root")).mode() & 07777).isEqualTo(04755);
    assertThat(lstat(in("usr/bin/su-user")).mode() & 07777).isEqualTo(04755);
    assertThat(lstat(in("var/www")).mode() & 07777).isEqualTo(0750);
    assertThat(lstat(in("usr/bin/su-hard")).ino()).isEqualTo(lstat(in("usr/bin/su-user")).ino());
  }

  @Test
  void restrictiveDirectoryModesAreSetLastDeepestFirst() throws IOException {
    unpack(new Tar().dir(".", 0555).dir("usr", 0555).dir("usr/bin", 0555).file("usr/bin/x", "x").dir("sealed", 0)
        .file("sealed/s", "s").file("late/first", "f").dir("late", 0500).dir("late/in", 0).file("late/in/z", "z").bytes());
    assertThat(lstat(in("usr/bin")).mode() & 07777).isEqualTo(0555);
    assertThat(lstat(in("usr")).mode() & 07777).isEqualTo(0555);
    assertThat(lstat(in("sealed")).mode() & 07777).isZero();
    assertThat(lstat(in("late")).mode() & 07777).isEqualTo(0500);
    assertThat(lstat(in("late/in")).mode() & 07777).isZero();
    assertThat(lstat(base.resolve("layer")).mode() & 07777).isEqualTo(0555);
    assertThat(lstat(in("late/in/z")).type()).isEqualTo(LinuxFs.S_IFREG);
    Files2.deleteTree(base.resolve("layer"));
    assertThat(base.resolve("layer")).doesNotExist();
  }

  @Test
  void rootOwnedLayerHasNoOwners() throws IOException {
    assertThat(unpack(new Tar().dir("a").file("a/b", "x", 04755).bytes()).owners()).isEmpty();
  }

  @Test
  void devicesBecomeEmptyModeZeroFilesFifosStay() throws IOException {
    TarArchiveEntry blk = Fixtures.owned("dev/sda", TarArchiveEntry.LF_BLK, 0, 6, 0660);
    blk.setDevMajor(8);
    TarArchiveEntry fifo = Fixtures.owned("run/fifo", TarArchiveEntry.LF_FIFO, 33, 33, 0620);
    LayerUnpacker.Result r = unpack(new Tar().dir("dev").chardev("dev/null", 1, 3).entry(blk, null)
        .dir("run").entry(fifo, null).bytes());
    for (String d : new String[] {"dev/null", "dev/sda"}) {
      Stat st = lstat(in(d));
      assertThat(st.type()).as(d).isEqualTo(LinuxFs.S_IFREG);
      assertThat(st.mode() & 07777).as(d).isZero();
      assertThat(Files.size(in(d))).as(d).isZero();
    }
    assertThat(lstat(in("run/fifo")).type()).isEqualTo(LinuxFs.S_IFIFO);
    assertThat(lstat(in("run/fifo")).mode() & 07777).isEqualTo(0620);
    assertThat(r.owners()).containsExactly(
        new LayerOwners.Entry("dev/sda", 0, 6, 0), new LayerOwners.Entry("run/fifo", 33, 33, 0620));
  }

  @Test
  void whiteoutIsChar00AndOpaqueIsAUserXattr() throws IOException {
    unpack(new Tar().dir("etc").file("etc/.wh.gone", "").dir("d").file("d/.wh.inner", "")
        .file("d/.wh..wh..opq", "").file("d/new", "n").bytes());
    Stat wh = lstat(in("etc/gone"));
    assertThat(wh.isWhiteout()).as("etc/gone is a 0:0 char device").isTrue();
    assertThat(wh.uid()).isEqualTo((int) ProcStatus.effectiveUid());
    assertThat(LinuxFs.lgetxattr(in("d").toString(), "user.overlay.opaque")).containsExactly('y');
    assertThat(LinuxFs.lgetxattr(in("d").toString(), "trusted.overlay.opaque")).isNull();
    assertThat(Files.exists(in("d/inner"), java.nio.file.LinkOption.NOFOLLOW_LINKS))
        .as("whiteouts under the now opaque directory are dropped").isFalse();
    assertThat(Files.readString(in("d/new"))).isEqualTo("n");
  }

  @Test
  void imageOverlayXattrsAreEscapedAndPrivilegedOnesDropped() throws IOException {
    byte[] tar = new Fixtures.RawTar()
        .pax(Fixtures.paxRecords(
            Fixtures.paxRecord("SCHILY.xattr.user.overlay.opaque", new byte[] {'y'}),
            Fixtures.paxRecord("SCHILY.xattr.user.overlay.redirect", "/elsewhere".getBytes(StandardCharsets.UTF_8)),
            Fixtures.paxRecord("SCHILY.xattr.trusted.overlay.opaque", new byte[] {'y'}),
            Fixtures.paxRecord("SCHILY.xattr.trusted.secret", new byte[] {'s'}),
            Fixtures.paxRecord("SCHILY.xattr.security.capability", Fixtures.CAP_SETUID_NET_RAW),
            Fixtures.paxRecord("SCHILY.xattr.user.k", new byte[] {'v'}),
            Fixtures.paxRecord("SCHILY.xattr.system.posix_acl_access", Fixtures.ACL_NOBODY_RX)))
        .file("f", "content".getBytes(StandardCharsets.UTF_8))
        .bytes();
    unpack(tar);
    String f = in("f").toString();
    assertThat(LinuxFs.lgetxattr(f, "user.overlay.opaque")).isNull();
    assertThat(LinuxFs.lgetxattr(f, "user.overlay.redirect")).isNull();
    assertThat(LinuxFs.lgetxattr(f, "user.overlay.overlay.opaque")).containsExactly('y');
    assertThat(new String(LinuxFs.lgetxattr(f, "user.overlay.overlay.redirect"), StandardCharsets.UTF_8)).isEqualTo("/elsewhere");
    // run as root, setting them would succeed: their absence shows the rootless unpack dropped them
    assertThat(LinuxFs.lgetxattr(f, "trusted.overlay.overlay.opaque")).isNull();
    assertThat(LinuxFs.lgetxattr(f, "trusted.overlay.opaque")).isNull();
    assertThat(LinuxFs.lgetxattr(f, "trusted.secret")).isNull();
    assertThat(LinuxFs.lgetxattr(f, "security.capability")).isNull();
    assertThat(LinuxFs.lgetxattr(f, "user.k")).containsExactly('v');
    assertThat(LinuxFs.lgetxattr(f, "system.posix_acl_access")).isEqualTo(Fixtures.ACL_NOBODY_RX);
    assertThat(LayerUnpacker.privilegedXattr("trusted.x")).isTrue();
    assertThat(LayerUnpacker.privilegedXattr("security.capability")).isTrue();
    assertThat(LayerUnpacker.privilegedXattr("security.selinux")).isFalse();
    assertThat(LayerUnpacker.privilegedXattr("user.trusted.x")).isFalse();
  }

  @Test
  void droppedXattrsAreWarnedAboutOncePerLayerByName() throws IOException {
    byte[] records = Fixtures.paxRecords(
        Fixtures.paxRecord("SCHILY.xattr.trusted.a", new byte[] {'1'}),
        Fixtures.paxRecord("SCHILY.xattr.security.capability", Fixtures.CAP_SETUID_NET_RAW));
    byte[] tar = new Fixtures.RawTar().pax(records).file("f", new byte[] {1}).pax(records).file("g", new byte[] {2})
        .bytes();
    java.io.PrintStream err = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      unpack(tar);
    } finally {
      System.setErr(err); // slf4j-simple writes to the System.err of the moment
    }
    String log = captured.toString(StandardCharsets.UTF_8);
    assertThat(log.lines().filter(l -> l.contains("dropped the xattrs"))).singleElement().asString()
        .contains("WARN").contains("layer test").contains("security.capability, trusted.a");
    assertThat(LinuxFs.lgetxattr(in("g").toString(), "trusted.a")).isNull();
  }

  @Test
  void ownerBeyondSignedRangeIsRefused() {
    byte[] x = {1};
    byte[] tar = new Tar().ownedFile("f", 3_000_000_000L, 0, 0644, x).bytes();
    assertThatThrownBy(() -> unpack(tar)).isInstanceOf(UnsafeLayerException.class)
        .hasMessageContaining("entry `f`").hasMessageContaining("3000000000:0").hasMessageContaining("rootless");
  }

  @Test
  void hostileLayerWithAllOfItStaysInside() throws IOException {
    // the breakout checks hold in rootless mode too: a symlinked parent cannot take an entry outside
    byte[] tar = new Tar().symlink("esc", "../../").ownedFile("esc/outside", 33, 33, 0644, new byte[] {1})
        .bytes();
    LayerUnpacker.Result r = unpack(tar);
    assertThat(in("outside")).exists();
    assertThat(base.resolve("outside")).doesNotExist();
    assertThat(r.owners()).as("listed where it landed, never through the symlink")
        .containsExactly(new LayerOwners.Entry("outside", 33, 33, 0644));
  }

  @Test
  void largestListableOwner() throws IOException {
    byte[] x = {1};
    LayerUnpacker.Result r = unpack(new Tar().ownedFile("f", Integer.MAX_VALUE, 1, 0600, x).bytes());
    assertThat(r.owners()).containsExactly(new LayerOwners.Entry("f", Integer.MAX_VALUE, 1, 0600));
  }
}
