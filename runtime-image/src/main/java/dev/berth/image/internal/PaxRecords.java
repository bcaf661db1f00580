package dev.berth.image.internal;

import dev.berth.image.UnsafeLayerException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * The xattr records of POSIX pax extended headers, with values kept as bytes. A record is
 * {@code "<length> <keyword>=<value>\n"}: the record's length in decimal (counting itself), a
 * space, a UTF-8 keyword, {@code =}, a value of any bytes, a newline. An xattr value is binary (a
 * POSIX ACL holds {@code 0xff} bytes, {@code security.capability} a bit mask), so it must reach
 * {@code fsetxattr} as the bytes the record holds, never through a String.
 *
 * <p>Two spellings exist: {@code SCHILY.xattr.<name>=<value bytes>} (GNU tar, star, Go's
 * archive/tar, commons-compress) and {@code LIBARCHIVE.xattr.<url-encoded name>=<base64 value>}
 * (bsdtar, which writes both).
 */
final class PaxRecords {
  private PaxRecords() {}

  static final String SCHILY_XATTR = "SCHILY.xattr.";
  static final String LIBARCHIVE_XATTR = "LIBARCHIVE.xattr.";

  static boolean isXattrKeyword(String keyword) {
    return keyword.startsWith(SCHILY_XATTR) || keyword.startsWith(LIBARCHIVE_XATTR);
  }

  /**
   * Applies the xattr records of pax header data ({@code length} bytes of {@code data}) to {@code
   * records} (keyword to value), in order: a record sets its keyword, one with an empty value
   * deletes it (POSIX). Other records are checked for form and skipped. Malformed data is refused.
   */
  static void apply(byte[] data, int length, Map<String, byte[]> records, String what) throws UnsafeLayerException {
    int pos = 0;
    while (pos < length) {
      int i = pos;
      long recordLength = 0;
      while (i < length && data[i] >= '0' && data[i] <= '9') {
        recordLength = recordLength * 10 + (data[i] - '0');
        if (recordLength > length - pos) {
          throw malformed(what, pos, "its length runs past the header");
        }
        i++;
      }
      if (i == pos || i >= length || data[i] != ' ') {
        throw malformed(what, pos, "no decimal length followed by a space");
      }
      int keyStart = i + 1;
      int end = pos + (int) recordLength; // exclusive; the newline is at end - 1
      if (end - 1 <= keyStart || data[end - 1] != '\n') {
        throw malformed(what, pos, "it does not end with a newline where its length says");
      }
      int eq = keyStart;
      while (eq < end - 1 && data[eq] != '=') {
        eq++;
      }
      if (eq == keyStart || eq == end - 1) {
        throw malformed(what, pos, "no keyword=value");
      }
      String keyword = utf8(data, keyStart, eq, what, "keyword");
      if (isXattrKeyword(keyword)) {
        if (eq + 1 == end - 1) {
          records.remove(keyword);
        } else {
          records.put(keyword, Arrays.copyOfRange(data, eq + 1, end - 1));
        }
      }
      pos = end;
    }
  }

  /**
   * The xattrs the records name (xattr name to value, sorted by name). Where both spellings name
   * one xattr their values must agree: otherwise tools reading one spelling would see another
   * file than tools reading the other.
   */
  static Map<String, byte[]> xattrs(Map<String, byte[]> records, String what) throws UnsafeLayerException {
    Map<String, byte[]> out = new TreeMap<>();
    for (Map.Entry<String, byte[]> r : records.entrySet()) {
      String keyword = r.getKey();
      String name;
      byte[] value;
      if (keyword.startsWith(SCHILY_XATTR)) {
        name = keyword.substring(SCHILY_XATTR.length());
        value = r.getValue();
      } else if (keyword.startsWith(LIBARCHIVE_XATTR)) {
        name = percentDecode(keyword.substring(LIBARCHIVE_XATTR.length()), what);
        try {
          value = Base64.getDecoder().decode(r.getValue());
        } catch (IllegalArgumentException e) {
          throw new UnsafeLayerException(what + ": pax record " + keyword + ": value is not base64: " + e.getMessage());
        }
      } else {
        continue;
      }
      if (name.isEmpty() || name.indexOf('\0') >= 0) {
        throw new UnsafeLayerException(what + ": pax record " + keyword + ": invalid xattr name");
      }
      byte[] other = out.putIfAbsent(name, value);
      if (other != null && !Arrays.equals(other, value)) {
        throw new UnsafeLayerException(
            what + ": pax records " + SCHILY_XATTR + name + " and " + LIBARCHIVE_XATTR + name + " disagree");
      }
    }
    return out;
  }

  /** libarchive's url_encode escapes bytes outside 33..126 and {@code %} and {@code =} as %XX. */
  private static String percentDecode(String s, String what) throws UnsafeLayerException {
    ByteArrayOutputStream b = new ByteArrayOutputStream(s.length());
    byte[] in = s.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < in.length; i++) {
      if (in[i] != '%') {
        b.write(in[i]);
        continue;
      }
      int hi = i + 2 < in.length ? Character.digit(in[i + 1], 16) : -1;
      int lo = i + 2 < in.length ? Character.digit(in[i + 2], 16) : -1;
      if (hi < 0 || lo < 0) {
        throw new UnsafeLayerException(what + ": pax record " + LIBARCHIVE_XATTR + s + ": bad %-escape");
      }
      b.write(hi << 4 | lo);
      i += 2;
    }
    byte[] d = b.toByteArray();
    return utf8(d, 0, d.length, what, "xattr name " + LIBARCHIVE_XATTR + s);
  }

  private static String utf8(byte[] b, int from, int to, String what, String field) throws UnsafeLayerException {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b, from, to - from))
          .toString();
    } catch (CharacterCodingException e) {
      throw new UnsafeLayerException(what + ": pax " + field + " is not UTF-8");
    }
  }

  private static UnsafeLayerException malformed(String what, int offset, String why) {
    return new UnsafeLayerException(what + ": malformed pax header record at byte " + offset + ": " + why);
  }
}
