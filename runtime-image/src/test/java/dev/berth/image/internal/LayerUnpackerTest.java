package dev.berth.image.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.linux.internal.ProcStatus;
import dev.berth.testing.Preconditions;
import dev.berth.image.BlobVerificationException;
import dev.berth.image.Digest;
import dev.berth.image.Fixtures;
import dev.berth.image.Fixtures.Tar;
import dev.berth.image.ImageException;
import dev.berth.image.MediaTypes.Compression;
import dev.berth.image.UnpackLimits;
import dev.berth.image.UnsafeLayerException;
import dev.berth.image.internal.linux.LinuxFs;
import dev.berth.image.internal.linux.LinuxFs.Stat;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every image-unpack attack of hardening.md 5(b) as a fixture tar, with host sentinels next to the
 * layer directory: {@code victim/host.txt} (0400), the sibling {@code layer-evil/host.txt}, and
 * {@code host.txt} beside the layer. After each case the sentinels must be untouched (content, mode,
 * mtime) and nothing new may exist outside the layer directory. Case names follow containerd's
 * TestBreakouts, moby go-archive and umoci where they map.
 */
class LayerUnpackerTest {
  @TempDir Path base;
  Path layer;
  List<Path> sentinels;
  Set<String> baseListing;
  static final FileTime SENTINEL_TIME = FileTime.from(Instant.parse("2001-01-01T00:00:00Z"));

  @BeforeEach
  void setUp() throws IOException {
    layer = Files.createDirectory(base.resolve("layer"));
    Path victim = Files.createDirectory(base.resolve("victim"));
    Path evil = Files.createDirectory(base.resolve("layer-evil"));
    sentinels = List.of(victim.resolve("host.txt"), evil.resolve("host.txt"), base.resolve("host.txt"));
    for (Path s : sentinels) {
      Files.writeString(s, "HOST");
      Files.setPosixFilePermissions(s, PosixFilePermissions.fromString("r--------"));
      Files.setLastModifiedTime(s, SENTINEL_TIME);
    }
    baseListing = listing();
  }

  private Set<String> listing() throws IOException {
    try (Stream<Path> s = Files.walk(base)) {
      return s.filter(p -> !p.startsWith(layer)).map(p -> base.relativize(p).toString()).collect(java.util.stream.Collectors.toSet());
    }
  }

  @AfterEach
  void hostUntouched() throws IOException {
    for (Path s : sentinels) {
      assertThat(Files.readString(s)).as("HOST PATH WAS CHANGED! THIS IS A PATH ESCAPE! " + s).isEqualTo("HOST");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(s))).as("mode of " + s).isEqualTo("r--------");
      assertThat(Files.getLastModifiedTime(s)).as("mtime of " + s).isEqualTo(SENTINEL_TIME);
    }
    assertThat(listing()).as("nothing created outside the layer").isEqualTo(baseListing);
  }

  LayerUnpacker.Result unpack(byte[] tar) throws IOException {
    return unpack(tar, UnpackLimits.DEFAULTS);
  }

  LayerUnpacker.Result unpack(byte[] tar, UnpackLimits limits) throws IOException {
    Files2.deleteTree(layer); // each unpack starts from an empty layer directory
    Files.createDirectory(layer);
    return LayerUnpacker.unpack(new ByteArrayInputStream(tar), Compression.NONE, Digest.sha256Of(tar), layer, limits, "test");
  }

  void rejected(byte[] tar, String... messageParts) {
    assertThatThrownBy(() -> unpack(tar)).isInstanceOf(ImageException.class).message().contains(messageParts);
  }

  Path in(String p) {
    return layer.resolve(p);
  }

  static Stat lstat(Path p) throws IOException {
    return LinuxFs.lstatat(LinuxFs.AT_FDCWD, p.toString());
  }

  static String abs(Path p) {
    return p.toAbsolutePath().toString();
  }

  // ---------------------------------------------------------------- names

  @Test
  void dotDotNameRejected() {
    rejected(new Tar().file("../x", "pwn").bytes(), "`../x`", "escapes");
  }

  @Test
  void slashDotDotNameRejected() {
    rejected(new Tar().file("/../x", "pwn").bytes(), "`/../x`");
  }

  @Test
  void nestedDotDotRejected_victimDotdot() {
    rejected(new Tar().file("../victim/dotdot", "pwn").bytes(), "../victim/dotdot");
    rejected(new Tar().file("/../victim/slash-dotdot", "pwn").bytes(), "slash-dotdot");
  }

  @Test
  void absoluteNameScopedInsideRoot() throws IOException {
    unpack(new Tar().file("/etc/x", "ok").bytes());
    assertThat(in("etc/x")).hasContent("ok");
  }

  @Test
  void siblingPrefixContained() {
    rejected(new Tar().file("../layer-evil/host.txt", "pwn").bytes(), "layer-evil");
    rejected(new Tar().hardlink("h", "../layer-evil/host.txt").bytes(), "layer-evil");
  }

  @Test
  void siblingPrefixThroughSymlinkContained() {
    assertThatThrownBy(() -> unpack(new Tar().symlink("x", "../layer-evil").file("x/pwn", "pwn").bytes()))
        .isInstanceOf(UnsafeLayerException.class)
        .hasMessageContaining("x/pwn");
  }

  // ---------------------------------------------------------------- symlinks (containerd TestBreakouts)

  @Test
  void symlinkAbsolute() throws IOException {
    unpack(new Tar().dir("etc").symlink("localetc", "/etc").file("localetc/unbroken", "x").bytes());
    assertThat(in("etc/unbroken")).hasContent("x");
  }

  @Test
  void symlinkAbsoluteToHostPath() throws IOException {
    Path victim = base.resolve("victim");
    unpack(new Tar().symlink("v", abs(victim)).dir(abs(victim).substring(1)).file("v/host.txt", "x").bytes());
    assertThat(in(abs(victim).substring(1) + "/host.txt")).hasContent("x");
  }

  @Test
  void symlinkUpAndOut() throws IOException {
    unpack(new Tar().dir("dummy").symlink("dummy/up", "../../../../../../..").file("dummy/up/x", "x").bytes());
    assertThat(in("x")).hasContent("x");
  }

  @Test
  void symlinkMultipleAbsolute() throws IOException {
    unpack(new Tar().symlink("l1", "/").symlink("l2", "/l1/../../..").dir("victim").file("l2/victim/x", "x").bytes());
    assertThat(in("victim/x")).hasContent("x");
  }

  @Test
  void symlinkMultipleRelative() throws IOException {
    unpack(new Tar().symlink("l1", "../../..").symlink("l2", "l1/../../..").dir("victim").file("l2/victim/x", "x").bytes());
    assertThat(in("victim/x")).hasContent("x");
  }

  @Test
  void symlinkChainRootVariants() throws IOException {
    unpack(new Tar()
        .symlink("a", "/").symlink("b", "/../").symlink("c", "/../../../../../").symlink("d", "/./.././../.")
        .symlink("e", "..")
        .file("a/fa", "1").file("b/fb", "2").file("c/fc", "3").file("d/fd", "4").file("e/fe", "5").bytes());
    for (String f : List.of("fa", "fb", "fc", "fd", "fe")) {
      assertThat(in(f)).exists();
    }
  }

  @Test
  void symlinkEmptyFile() throws IOException {
    // a file entry over an earlier symlink of the same layer is a conflict, never a write through it
    rejected(new Tar().symlink("lnk", abs(base.resolve("host.txt"))).file("lnk", "pwn").bytes(), "`lnk`", "duplicate");
  }

  @Test
  void symlinkEmptyFilename() {
    rejected(new Tar().symlink("s", "").bytes(), "`s`", "empty target");
  }

  @Test
  void symlinkParentDirectory() throws IOException {
    unpack(new Tar().symlink("dir", "../").file("dir/x", "x").bytes());
    assertThat(in("x")).hasContent("x");
  }

  @Test
  void symlinkParentRelative() throws IOException {
    unpack(new Tar().dir("d").symlink("d/p", "../..").dir("victim").file("d/p/victim/x", "x").bytes());
    assertThat(in("victim/x")).hasContent("x");
  }

  @Test
  void symlinkSlashEnded() throws IOException {
    unpack(new Tar().symlink("s/", "../../victim").dir("victim").file("s/x", "x").bytes());
    assertThat(in("victim/x")).hasContent("x");
  }

  @Test
  void symlinkOverrideDirectory() {
    rejected(new Tar().dir("d").symlink("d", abs(base.resolve("victim"))).file("d/host.txt", "pwn").bytes(), "`d`");
  }

  @Test
  void symlinkOverrideDirectoryRelative() {
    rejected(new Tar().dir("d").symlink("d", "../../victim").file("d/host.txt", "pwn").bytes(), "`d`");
  }

  @Test
  void directoryOverrideSymlink() {
    rejected(new Tar().symlink("d", abs(base.resolve("victim"))).dir("d").file("d/host.txt", "pwn").bytes(), "`d/`", "duplicate");
  }

  @Test
  void directoryOverrideSymlinkAndHardlink() {
    rejected(new Tar().symlink("d", abs(base.resolve("victim"))).hardlink("h", "d/host.txt").dir("d").bytes(), "`h`");
  }

  @Test
  void symlinkOverridePath() throws IOException {
    unpack(new Tar().dir("a").dir("a/b").symlink("c", "/a").file("c/b/x", "x").bytes());
    assertThat(in("a/b/x")).hasContent("x");
  }

  @Test
  void directorySymlinkSwapWithinLayer_cve2025_47290() {
    // d is a directory, then becomes a symlink to the host; later writes must not follow a stale resolution
    rejected(new Tar().dir("d").file("d/a", "1").symlink("d", abs(base.resolve("victim"))).file("d/host.txt", "pwn").bytes(),
        "`d`", "duplicate");
  }

  @Test
  void danglingSymlinkParentRefused() {
    assertThatThrownBy(() -> unpack(new Tar().symlink("dead", "/nonexistent/dir").file("dead/x", "x").bytes()))
        .isInstanceOf(UnsafeLayerException.class)
        .hasMessageContaining("dead/x");
  }

  // ---------------------------------------------------------------- hardlinks

  @Test
  void hardlinkRelative() {
    rejected(new Tar().hardlink("h", "../victim/host.txt").bytes(), "`../victim/host.txt`");
  }

  @Test
  void hardlinkDownAndOut() {
    rejected(new Tar().dir("dummy").hardlink("h", "dummy/../../victim/host.txt").bytes(), "escapes");
  }

  @Test
  void hardlinkAbsolute() {
    rejected(new Tar().hardlink("h", abs(base.resolve("victim/host.txt"))).bytes(), "`h`", "not in this layer");
  }

  @Test
  void hardlinkRelativeLong() {
    rejected(new Tar().hardlink("h", "../../../../../../../../../etc/passwd").bytes(), "escapes");
  }

  @Test
  void hardlinkRelativeUpAndOut() {
    rejected(new Tar().symlink("up", "../..").hardlink("h", "up/victim/host.txt").bytes(), "`h`", "not in this layer");
  }

  @Test
  void hardlinkDirectRelativeAndAbsolute() {
    rejected(new Tar().hardlink("h", "../host.txt").bytes(), "escapes");
    rejected(new Tar().hardlink("h", abs(base.resolve("host.txt"))).bytes(), "not in this layer");
  }

  @Test
  void hardlinkSymlinkBeforeCreateTarget() throws IOException {
    unpack(new Tar().symlink("s", "file").hardlink("h", "s").file("file", "x").bytes());
    assertThat(Files.isSymbolicLink(in("h"))).isTrue();
    assertThat(in("h")).hasContent("x");
  }

  @Test
  void hardlinkSymlinkRelative() throws IOException {
    unpack(new Tar().symlink("s", "../victim/host.txt").hardlink("h", "s").bytes());
    assertThat(Files.readSymbolicLink(in("h")).toString()).isEqualTo("../victim/host.txt");
  }

  @Test
  void hardlinkSymlinkAbsolute() throws IOException {
    unpack(new Tar().symlink("s", abs(base.resolve("victim/host.txt"))).hardlink("h", "s").bytes());
    assertThat(lstat(in("h")).type()).isEqualTo(LinuxFs.S_IFLNK);
  }

  @Test
  void hardlinkSymlinkChmod_cve2021_32760() throws IOException {
    // a hardlink to a symlink pointing at a 0400 host file, with mode 0777 in its header: host mode must stay 0400
    unpack(new Tar().symlink("s", abs(base.resolve("victim/host.txt"))).hardlink("h", "s", 0777).bytes());
    assertThat(lstat(in("h")).type()).isEqualTo(LinuxFs.S_IFLNK);
  }

  @Test
  void hardlinkToDirectoryRefused() {
    rejected(new Tar().dir("d").hardlink("h", "d").bytes(), "directory");
  }

  @Test
  void hardlinkToMissingTargetRefused() {
    rejected(new Tar().hardlink("h", "nothing").bytes(), "not in this layer");
  }

  @Test
  void hardlinkThenWriteRefused_loopholeVictim() {
    rejected(new Tar().file("f", "1").hardlink("loophole-victim", "f").file("loophole-victim", "pwn").bytes(), "duplicate");
  }

  @Test
  void hardlinkPreserved() throws IOException {
    unpack(new Tar().file("a", "x").hardlink("b", "a").bytes());
    assertThat(lstat(in("a")).ino()).isEqualTo(lstat(in("b")).ino());
  }

  // ---------------------------------------------------------------- root

  @Test
  void rootTurnedIntoSymlink_cve2021_29136() {
    rejected(new Tar().symlink(".", abs(base.resolve("victim"))).file("host.txt", "pwn").bytes(), "root directory");
    rejected(new Tar().symlink("./", "/").bytes(), "root directory");
  }

  @Test
  void rootDirectoryEntryAppliesMode() throws IOException {
    unpack(new Tar().dir("./", 0750).bytes());
    assertThat(lstat(layer).mode() & 07777).isEqualTo(0750);
    assertThat(Files.isSymbolicLink(layer)).isFalse();
  }

  // ---------------------------------------------------------------- whiteouts

  @Test
  void invalidWhiteoutNamesRefused() {
    for (String n : List.of(".wh.", ".wh..", ".wh...", "etc/.wh..", "etc/.wh...")) {
      assertThatThrownBy(() -> unpack(new Tar().file(n, "").bytes())).as(n)
          .isInstanceOf(ImageException.class).hasMessageContaining(n);
    }
    rejected(new Tar().file("../.wh.etc", "").bytes(), "escapes");
    rejected(new Tar().file("a/../.wh.x", "").bytes(), "escapes");
  }

  @Test
  void whiteoutBecomesCharDevice00() throws IOException {
    Preconditions.require(ProcStatus.isRoot(), "mknod of whiteouts needs root (CAP_MKNOD)");
    unpack(new Tar().dir("etc").file("etc/.wh.passwd", "").file(".wh.gone", "").bytes());
    Stat st = lstat(in("etc/passwd"));
    assertThat(st.isWhiteout()).isTrue();
    assertThat(st.uid()).isZero();
    assertThat(lstat(in("gone")).isWhiteout()).isTrue();
    assertThat(in("etc/.wh.passwd")).doesNotExist();
  }

  @Test
  void whiteoutThroughSymlinkStaysInside() throws IOException {
    Preconditions.require(ProcStatus.isRoot(), "mknod of whiteouts needs root (CAP_MKNOD)");
    unpack(new Tar().dir("victim").symlink("s", "/victim").file("s/.wh.host.txt", "").bytes());
    assertThat(lstat(in("victim/host.txt")).isWhiteout()).isTrue();
  }

  @Test
  void whiteoutSymlinkToOutsideRefused() {
    rejected(new Tar().symlink("s", "../victim").file("s/.wh.host.txt", "").bytes(), "s/.wh.host.txt");
  }

  @Test
  void whiteoutDeadSymlinkParent() {
    rejected(new Tar().symlink("deadlink", "/nonexistent").file("deadlink/.wh.x", "").bytes(), "deadlink/.wh.x");
  }

  @Test
  void whiteoutOfNameInSameLayerRefused() {
    Preconditions.require(ProcStatus.isRoot(), "mknod of whiteouts needs root (CAP_MKNOD)");
    rejected(new Tar().symlink("s", "x").file(".wh.s", "").bytes(), "`.wh.s`");
    rejected(new Tar().dir("d").file(".wh.d", "").bytes(), "`.wh.d`");
  }

  @Test
  void opaqueDirectoryGetsXattrAndDropsInnerWhiteouts() throws IOException {
    Preconditions.require(ProcStatus.isRoot(), "trusted.* xattrs and mknod need root");
    // whiteouts before and after the opaque marker, and nested below it
    unpack(new Tar().dir("d").file("d/.wh.before", "").file("d/.wh..wh..opq", "").file("d/.wh.after", "")
        .dir("d/sub").file("d/sub/.wh.nested", "").file("d/new", "n").file("other/.wh.kept", "").bytes());
    assertThat(LinuxFs.lgetxattr(in("d").toString(), "trusted.overlay.opaque")).containsExactly('y');
    assertThat(in("d/before")).doesNotExist();
    assertThat(in("d/after")).doesNotExist();
    assertThat(in("d/sub/nested")).doesNotExist();
    assertThat(in("d/new")).hasContent("n");
    assertThat(lstat(in("other/kept")).isWhiteout()).isTrue();
    try (Stream<Path> s = Files.list(in("d"))) {
      assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("sub", "new");
    }
  }

  @Test
  void imageOverlayXattrsEscaped() throws IOException {
    Preconditions.require(ProcStatus.isRoot(), "trusted.* xattrs need root");
    unpack(new Tar().dirWithXattrs("d", Map.of("trusted.overlay.opaque", "y", "trusted.overlay.redirect", "/x", "user.k", "v"))
        .fileWithXattrs("f", "x", Map.of("trusted.overlay.metacopy", "m", "security.selinux", "bad")).bytes());
    assertThat(LinuxFs.lgetxattr(in("d").toString(), "trusted.overlay.opaque")).isNull();
    assertThat(LinuxFs.lgetxattr(in("d").toString(), "trusted.overlay.redirect")).isNull();
    assertThat(LinuxFs.lgetxattr(in("d").toString(), "trusted.overlay.overlay.opaque")).containsExactly('y');
    assertThat(new String(LinuxFs.lgetxattr(in("d").toString(), "trusted.overlay.overlay.redirect"), StandardCharsets.UTF_8)).isEqualTo("/x");
    assertThat(LinuxFs.lgetxattr(in("d").toString(), "user.k")).containsExactly('v');
    assertThat(LinuxFs.lgetxattr(in("f").toString(), "trusted.overlay.metacopy")).isNull();
    assertThat(LinuxFs.lgetxattr(in("f").toString(), "trusted.overlay.overlay.metacopy")).containsExactly((byte) 'm');
    assertThat(LinuxFs.lgetxattr(in("f").toString(), "security.selinux")).isNotEqualTo("bad".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void binaryXattrValuesWrittenByteForByte() throws IOException {
    byte[] binary = {(byte) 0xff, (byte) 0xfe, 0, (byte) 0x80, 'a'};
    byte[] tar = new Fixtures.RawTar()
        .pax(Fixtures.paxRecord("SCHILY.xattr.user.bin", binary))
        .file("f", "x".getBytes(StandardCharsets.UTF_8))
        .bytes();
    unpack(tar);
    assertThat(LinuxFs.lgetxattr(in("f").toString(), "user.bin")).isEqualTo(binary);
  }

  @Test
  void binaryCapabilityAndAclWrittenByteForByte() throws IOException {
    Preconditions.require(ProcStatus.isRoot(), "security.capability needs CAP_SETFCAP");
    byte[] tar = new Fixtures.RawTar()
        .pax(Fixtures.paxRecords(
            Fixtures.paxRecord("SCHILY.xattr.security.capability", Fixtures.CAP_SETUID_NET_RAW),
            Fixtures.paxRecord("SCHILY.xattr.system.posix_acl_access", Fixtures.ACL_NOBODY_RX)))
        .file("ping", "x".getBytes(StandardCharsets.UTF_8))
        .bytes();
    unpack(tar);
    assertThat(LinuxFs.lgetxattr(in("ping").toString(), "security.capability")).isEqualTo(Fixtures.CAP_SETUID_NET_RAW);
    assertThat(LinuxFs.lgetxattr(in("ping").toString(), "system.posix_acl_access")).isEqualTo(Fixtures.ACL_NOBODY_RX);
  }

  @Test
  void escapeRules() {
    assertThat(LayerUnpacker.escapeXattr("trusted.overlay.opaque")).isEqualTo("trusted.overlay.overlay.opaque");
    assertThat(LayerUnpacker.escapeXattr("user.overlay.redirect")).isEqualTo("user.overlay.overlay.redirect");
    assertThat(LayerUnpacker.escapeXattr("security.capability")).isEqualTo("security.capability");
    assertThat(LayerUnpacker.escapeXattr("security.selinux")).isNull();
    assertThat(LayerUnpacker.escapeXattr("user.mime")).isEqualTo("user.mime");
  }

  // ---------------------------------------------------------------- devices, metadata, duplicates

  @Test
  void deviceNumbersOutOfRangeRefused() {
    rejected(new Tar().chardev("dev/big", 4096, 0).bytes(), "dev/big", "out-of-range");
    rejected(new Tar().chardev("dev/bigminor", 1, 0x100000).bytes(), "dev/bigminor", "out-of-range");
    for (String v : List.of("99999999999", "-1", "4294967296")) {
      String rec = " SCHILY.devmajor=" + v + "\n";
      int len = rec.length() + 2;
      len = (String.valueOf(len) + rec).length();
      byte[] pax = (len + rec).getBytes(StandardCharsets.UTF_8);
      TarArchiveEntry x = new TarArchiveEntry("PaxHeaders/huge", TarArchiveEntry.LF_PAX_EXTENDED_HEADER_LC);
      x.setSize(pax.length);
      TarArchiveEntry dev = new TarArchiveEntry("dev/huge", TarArchiveEntry.LF_BLK, true);
      byte[] b = new Tar().entry(x, pax).entry(dev, null).bytes();
      assertThatThrownBy(() -> unpack(b)).as(v).isInstanceOf(UnsafeLayerException.class).hasMessageMatching("(?s).*(huge|header).*");
    }
  }

  @Test
  void devicesFifosAndSetuid() throws IOException {
    Preconditions.require(ProcStatus.isRoot(), "mknod of device nodes needs root");
    unpack(new Tar().dir("dev").chardev("dev/null", 1, 3).fifo("dev/fifo").file("bin/su", "x", 04755).dir("tmp", 01777).bytes());
    Stat n = lstat(in("dev/null"));
    assertThat(n.type()).isEqualTo(LinuxFs.S_IFCHR);
    assertThat(n.rdevMajor()).isEqualTo(1);
    assertThat(n.rdevMinor()).isEqualTo(3);
    assertThat(n.mode() & 07777).isEqualTo(0666);
    assertThat(lstat(in("dev/fifo")).type()).isEqualTo(LinuxFs.S_IFIFO);
    assertThat(lstat(in("bin/su")).mode() & 07777).isEqualTo(04755);
    assertThat(lstat(in("tmp")).mode() & 07777).isEqualTo(01777);
  }

  @Test
  void ownershipAndMtimePreserved() throws IOException {
    Preconditions.require(ProcStatus.isRoot(), "chown needs root");
    TarArchiveEntry e = new TarArchiveEntry("owned", TarArchiveEntry.LF_NORMAL, true);
    e.setUserId(1000);
    e.setGroupId(2000);
    e.setMode(06750);
    e.setSize(1);
    unpack(new Tar().dir("d").entry(e, new byte[] {'x'}).file("d/f", "y").symlink("d/s", "f").bytes());
    Stat st = lstat(in("owned"));
    assertThat(st.uid()).isEqualTo(1000);
    assertThat(st.gid()).isEqualTo(2000);
    assertThat(st.mode() & 07777).isEqualTo(06750);
    assertThat(Files.getLastModifiedTime(in("owned"))).isEqualTo(FileTime.from(Fixtures.T0));
    assertThat(Files.getLastModifiedTime(in("d"))).isEqualTo(FileTime.from(Fixtures.T0));
    assertThat(Files.getLastModifiedTime(in("d/s"), LinkOption.NOFOLLOW_LINKS)).isEqualTo(FileTime.from(Fixtures.T0));
  }

  @Test
  void duplicateEntriesRefused() {
    rejected(new Tar().file("a", "1").file("a", "2").bytes(), "duplicate entry `a`");
    rejected(new Tar().file("a", "1").file("./a", "2").bytes(), "duplicate");
    rejected(new Tar().dir("d").dir("d/").bytes(), "duplicate");
  }

  @Test
  void implicitParentsCreated() throws IOException {
    unpack(new Tar().file("a/b/c/file", "x").bytes());
    assertThat(in("a/b/c/file")).hasContent("x");
  }

  @Test
  void whiteoutIncludesParents() throws IOException {
    Preconditions.require(ProcStatus.isRoot(), "mknod of whiteouts needs root (CAP_MKNOD)");
    unpack(new Tar().file("a/b/.wh.c", "").bytes());
    assertThat(in("a/b")).isDirectory();
    assertThat(lstat(in("a/b/c")).isWhiteout()).isTrue();
  }

  @Test
  void longAndNonAsciiNames() throws IOException {
    String deep = "d".repeat(90) + "/" + "e".repeat(90) + "/" + "f".repeat(120);
    unpack(new Tar().file(deep, "deep").file("ünïcødé-名前", "u").symlink("l".repeat(150), "t".repeat(200)).bytes());
    assertThat(in(deep)).hasContent("deep");
    // checked through LinuxFs (UTF-8 bytes), independent of the JVM's sun.jnu.encoding
    assertThat(LinuxFs.lstatat(LinuxFs.AT_FDCWD, layer + "/ünïcødé-名前").type()).isEqualTo(LinuxFs.S_IFREG);
    assertThat(Files.readSymbolicLink(in("l".repeat(150))).toString()).isEqualTo("t".repeat(200));
  }

  @Test
  void fileUnderFileRefused() {
    rejected(new Tar().file("f", "1").file("f/g", "2").bytes(), "f/g", "not a directory");
  }

  // ---------------------------------------------------------------- verification and budgets

  @Test
  void wrongDiffIdFailsAfterDraining() {
    byte[] tar = new Tar().file("a", "1").bytes();
    byte[] withTrailer = java.util.Arrays.copyOf(tar, tar.length + 4096);
    Digest expected = Digest.sha256Of(tar); // the digest of the tar without its trailing bytes
    assertThatThrownBy(() -> LayerUnpacker.unpack(new ByteArrayInputStream(withTrailer), Compression.NONE, expected, layer,
            UnpackLimits.DEFAULTS, "L"))
        .isInstanceOf(BlobVerificationException.class)
        .hasMessageContaining("wrong DiffID")
        .hasMessageContaining("after reading " + withTrailer.length + " bytes");
  }

  @Test
  void gzipAndZstdLayers() throws IOException {
    byte[] tar = new Tar().file("a", "gz").bytes();
    LayerUnpacker.unpack(new ByteArrayInputStream(Fixtures.gzip(tar)), Compression.GZIP, Digest.sha256Of(tar), layer, UnpackLimits.DEFAULTS, "g");
    assertThat(in("a")).hasContent("gz");
    Path l2 = Files.createDirectory(base.resolve("layer2"));
    baseListing.add("layer2");
    byte[] tar2 = new Tar().file("b", "zs").bytes();
    LayerUnpacker.unpack(new ByteArrayInputStream(Fixtures.zstd(tar2)), Compression.ZSTD, Digest.sha256Of(tar2), l2, UnpackLimits.DEFAULTS, "z");
    assertThat(l2.resolve("b")).hasContent("zs");
    baseListing.add("layer2/b");
  }

  static TarArchiveEntry sized(String name, long size) {
    TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_NORMAL, true);
    e.setSize(size);
    e.setMode(0644);
    return e;
  }

  @Test
  void truncatedGzipRefusedNamingTheLayer() {
    java.util.Random r = new java.util.Random(1);
    byte[] content = new byte[300000];
    r.nextBytes(content);
    byte[] tar = new Tar().entry(sized("a", content.length), content).bytes();
    byte[] gz = Fixtures.gzip(tar);
    byte[] cut = java.util.Arrays.copyOf(gz, gz.length / 2); // fails inside the entry's content
    assertThatThrownBy(() -> LayerUnpacker.unpack(new ByteArrayInputStream(cut), Compression.GZIP, Digest.sha256Of(tar), layer,
            UnpackLimits.DEFAULTS, "sha256:cut"))
        .isInstanceOf(dev.berth.image.ImageException.class) // unchecked, a BerthException
        .hasMessageContaining("sha256:cut");
  }

  @Test
  void entryCountBudget() {
    Tar t = new Tar();
    for (int i = 0; i < 50; i++) {
      t.file("f" + i, "");
    }
    byte[] b = t.bytes();
    assertThatThrownBy(() -> unpack(b, UnpackLimits.DEFAULTS.withMaxEntries(20)))
        .isInstanceOf(dev.berth.image.LimitExceededException.class)
        .hasMessageContaining("more than 20 entries");
  }
}
