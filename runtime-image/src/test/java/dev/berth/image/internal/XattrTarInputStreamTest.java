package dev.berth.image.internal;

import static dev.berth.image.Fixtures.paxRecord;
import static dev.berth.image.Fixtures.paxRecords;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.Fixtures;
import dev.berth.image.Fixtures.RawTar;
import dev.berth.image.LimitExceededException;
import dev.berth.image.UnsafeLayerException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.Test;

/** Xattr values from crafted pax headers whose bytes are not UTF-8 (what GNU tar writes for ACLs). */
class XattrTarInputStreamTest {
  static final byte[] ACL = Fixtures.ACL_NOBODY_RX;
  static final byte[] CAP = Fixtures.CAP_SETUID_NET_RAW;
  static final byte[] LATIN1 = {'c', 'a', 'f', (byte) 0xe9};

  static XattrTarInputStream open(byte[] tar) {
    return new XattrTarInputStream(new ByteArrayInputStream(tar), "test");
  }

  @Test
  void binaryValuesKeptByteForByte() throws IOException {
    byte[] tar = new RawTar()
        .pax(paxRecords(
            paxRecord("SCHILY.xattr.system.posix_acl_access", ACL),
            paxRecord("SCHILY.xattr.security.capability", CAP),
            paxRecord("SCHILY.xattr.user.latin1", LATIN1),
            paxRecord("mtime", "1577934245.5".getBytes(StandardCharsets.UTF_8))))
        .file("bin/ping", "ELF".getBytes(StandardCharsets.UTF_8))
        .file("plain", "p".getBytes(StandardCharsets.UTF_8))
        .bytes();
    try (XattrTarInputStream in = open(tar)) {
      TarArchiveEntry e = in.getNextEntry();
      assertThat(e.getName()).isEqualTo("bin/ping");
      // what commons-compress alone gives: the ACL's 0xff bytes replaced, the value corrupted
      assertThat(e.getExtraPaxHeaders().get("SCHILY.xattr.system.posix_acl_access")).contains("\uFFFD");
      Map<String, byte[]> x = in.xattrs();
      assertThat(x).containsOnlyKeys("security.capability", "system.posix_acl_access", "user.latin1");
      assertThat(x.get("system.posix_acl_access")).isEqualTo(ACL);
      assertThat(x.get("security.capability")).isEqualTo(CAP);
      assertThat(x.get("user.latin1")).isEqualTo(LATIN1);
      assertThat(in.readAllBytes()).asString().isEqualTo("ELF");
      assertThat(in.getNextEntry().getName()).isEqualTo("plain");
      assertThat(in.xattrs()).isEmpty();
      assertThat(in.getNextEntry()).isNull();
    }
  }

  @Test
  void libarchiveSpellingDecodedAndCheckedAgainstSchily() throws IOException {
    String b64 = Base64.getEncoder().withoutPadding().encodeToString(CAP);
    byte[] tar = new RawTar()
        .pax(paxRecords(
            paxRecord("LIBARCHIVE.xattr.security.capability", b64.getBytes(StandardCharsets.US_ASCII)),
            paxRecord("SCHILY.xattr.security.capability", CAP),
            paxRecord("LIBARCHIVE.xattr.user.a%3Db%25", Base64.getEncoder().encode(LATIN1))))
        .file("f", new byte[0])
        .bytes();
    try (XattrTarInputStream in = open(tar)) {
      in.getNextEntry();
      assertThat(in.xattrs()).containsOnlyKeys("security.capability", "user.a=b%");
      assertThat(in.xattrs().get("security.capability")).isEqualTo(CAP);
      assertThat(in.xattrs().get("user.a=b%")).isEqualTo(LATIN1);
    }
    byte[] disagree = new RawTar()
        .pax(paxRecords(
            paxRecord("LIBARCHIVE.xattr.user.x", Base64.getEncoder().encode(new byte[] {1})),
            paxRecord("SCHILY.xattr.user.x", new byte[] {2})))
        .file("f", new byte[0])
        .bytes();
    try (XattrTarInputStream in = open(disagree)) {
      assertThatThrownBy(in::getNextEntry).isInstanceOf(UnsafeLayerException.class)
          .hasMessageContaining("entry `f`").hasMessageContaining("disagree");
    }
  }

  @Test
  void globalHeaderXattrsApplyToLaterEntriesAndLocalOnesOverride() throws IOException {
    byte[] tar = new RawTar()
        .globalPax(paxRecord("SCHILY.xattr.user.g", LATIN1))
        .file("a", new byte[0])
        .pax(paxRecord("SCHILY.xattr.user.g", ACL))
        .file("b", new byte[0])
        .file("c", new byte[0])
        .bytes();
    try (XattrTarInputStream in = open(tar)) {
      assertThat(in.getNextEntry().getName()).isEqualTo("a");
      assertThat(in.xattrs().get("user.g")).isEqualTo(LATIN1);
      assertThat(in.getNextEntry().getName()).isEqualTo("b");
      assertThat(in.xattrs().get("user.g")).isEqualTo(ACL);
      assertThat(in.getNextEntry().getName()).isEqualTo("c");
      assertThat(in.xattrs().get("user.g")).isEqualTo(LATIN1);
    }
  }

  @Test
  void twoExtendedHeadersForOneEntryRefused() throws IOException {
    byte[] tar = new RawTar()
        .pax(paxRecord("SCHILY.xattr.user.a", new byte[] {1}))
        .pax(paxRecord("SCHILY.xattr.user.a", new byte[] {2}))
        .file("f", new byte[0])
        .bytes();
    try (XattrTarInputStream in = open(tar)) {
      assertThatThrownBy(in::getNextEntry).isInstanceOf(UnsafeLayerException.class)
          .hasMessageContaining("more than one pax extended header");
    }
  }

  @Test
  void oversizedPaxHeaderRefused() throws IOException {
    byte[] tar = new RawTar()
        .pax(paxRecord("SCHILY.xattr.user.big", new byte[XattrTarInputStream.MAX_PAX_BYTES]))
        .file("f", new byte[0])
        .bytes();
    try (XattrTarInputStream in = open(tar)) {
      assertThatThrownBy(in::getNextEntry).isInstanceOf(LimitExceededException.class)
          .hasMessageContaining("pax headers of one entry are over");
    }
  }
}
