package dev.berth.image.internal;

import static dev.berth.image.Fixtures.paxRecord;
import static dev.berth.image.Fixtures.paxRecords;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.image.UnsafeLayerException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PaxRecordsTest {
  static Map<String, byte[]> parse(byte[] data) throws UnsafeLayerException {
    Map<String, byte[]> r = new LinkedHashMap<>();
    PaxRecords.apply(data, data.length, r, "test");
    return r;
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void valuesAreBytesAndOnlyXattrRecordsAreKept() throws UnsafeLayerException {
    byte[] v = {(byte) 0xff, 0, '\n', '=', (byte) 0x80};
    Map<String, byte[]> r = parse(paxRecords(
        paxRecord("path", ascii("a/b")), paxRecord("SCHILY.xattr.user.v", v), paxRecord("LIBARCHIVE.xattr.user.w", ascii("AQ"))));
    assertThat(r).containsOnlyKeys("SCHILY.xattr.user.v", "LIBARCHIVE.xattr.user.w");
    assertThat(r.get("SCHILY.xattr.user.v")).isEqualTo(v);
  }

  @Test
  void emptyValueDeletesTheKeyword() throws UnsafeLayerException {
    Map<String, byte[]> r = new LinkedHashMap<>();
    r.put("SCHILY.xattr.user.v", new byte[] {1});
    byte[] d = paxRecord("SCHILY.xattr.user.v", new byte[0]);
    PaxRecords.apply(d, d.length, r, "test");
    assertThat(r).isEmpty();
  }

  @Test
  void malformedRecordsRefusedNamingTheOffset() {
    byte[] good = paxRecord("SCHILY.xattr.user.v", ascii("x"));
    for (byte[] bad : new byte[][] {
        ascii("99 SCHILY.xattr.user.v=x\n"),           // length past the end
        ascii("5 a=b\n"),                               // length one short: no newline where it says
        ascii("x SCHILY.xattr.user.v=x\n"),            // no length
        ascii("0 \n"),                                   // zero length
        ascii("15 novaluehere\n"),                      // no '='
        ascii("7 =abc\n"),                               // empty keyword
        paxRecords(good, ascii("\n")),                   // trailing garbage
        ascii("14 user.\u00ff\u00fe=ab\n"),             // keyword not UTF-8
    }) {
      assertThatThrownBy(() -> parse(bad)).as(new String(bad, StandardCharsets.ISO_8859_1))
          .isInstanceOf(UnsafeLayerException.class).hasMessageStartingWith("test: ");
    }
  }

  @Test
  void xattrNamesFromBothSpellings() throws UnsafeLayerException {
    Map<String, byte[]> r = new LinkedHashMap<>();
    r.put("SCHILY.xattr.user.s", new byte[] {(byte) 0xfe});
    r.put("LIBARCHIVE.xattr.user.%20sp", ascii("/g=="));
    Map<String, byte[]> x = PaxRecords.xattrs(r, "test");
    assertThat(x).containsOnlyKeys("user.s", "user. sp");
    assertThat(x.get("user. sp")).isEqualTo(new byte[] {(byte) 0xfe});
    r.put("LIBARCHIVE.xattr.user.%zz", ascii("AA"));
    assertThatThrownBy(() -> PaxRecords.xattrs(r, "test")).hasMessageContaining("bad %-escape");
  }
}
