package dev.berth.image.internal;

import dev.berth.image.LimitExceededException;
import dev.berth.image.UnsafeLayerException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * A tar reader that also gives each entry's xattrs as the bytes its pax headers hold ({@link
 * #xattrs()}). commons-compress parses pax headers into Strings, decoding every value as UTF-8
 * and replacing what is not with U+FFFD, which corrupts binary xattrs: POSIX ACLs ({@code
 * system.posix_acl_access} holds {@code 0xff} bytes) and {@code security.capability}.
 *
 * <p>commons-compress reads the data of a pax header entry through this stream's own {@link
 * #read(byte[], int, int)} while that header is its current entry, so the bytes are captured
 * there and parsed again by {@link PaxRecords}. Both readings must then agree on every xattr
 * record (the same keywords, and each value's UTF-8 reading equal to commons-compress's value):
 * a layer is never read as two different archives by two parsers.
 */
final class XattrTarInputStream extends TarArchiveInputStream {
  /** Bound on the pax header bytes of one entry (an xattr value is at most 64 KiB on Linux). */
  static final int MAX_PAX_BYTES = 1 << 20;

  private final String layer;
  /** The pax header entries met while reading the current entry's headers, in order. */
  private final List<Captured> captured = new ArrayList<>();
  /** xattr records of the global pax headers so far: they apply to every later entry. */
  private final Map<String, byte[]> globalRecords = new LinkedHashMap<>();
  private Map<String, byte[]> xattrs = Map.of();
  private int depth;
  private long capturedBytes;

  private record Captured(TarArchiveEntry header, ByteArrayOutputStream data) {}

  XattrTarInputStream(InputStream in, String layer) {
    super(in, "UTF-8");
    this.layer = layer;
  }

  /** The xattrs of the entry last returned by {@link #getNextEntry()} (name to value, by name). */
  Map<String, byte[]> xattrs() {
    return xattrs;
  }

  @Override
  public TarArchiveEntry getNextEntry() throws IOException {
    if (depth > 0) {
      // commons-compress reading on, after a pax or long-name header, to the entry it belongs to
      return super.getNextEntry();
    }
    captured.clear();
    capturedBytes = 0;
    xattrs = Map.of();
    TarArchiveEntry e;
    depth++;
    try {
      e = super.getNextEntry();
    } finally {
      depth--;
    }
    if (e != null) {
      xattrs = xattrsOf(e);
    }
    return e;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = super.read(b, off, len);
    if (n > 0 && depth > 0) {
      TarArchiveEntry header = getCurrentEntry();
      if (header != null && (header.isPaxHeader() || header.isGlobalPaxHeader())) {
        capture(header, b, off, n);
      }
    }
    return n;
  }

  private void capture(TarArchiveEntry header, byte[] b, int off, int n) throws LimitExceededException {
    capturedBytes += n;
    if (capturedBytes > MAX_PAX_BYTES) {
      throw new LimitExceededException(
          "layer " + layer + ": pax headers of one entry are over " + MAX_PAX_BYTES + " bytes");
    }
    Captured last = captured.isEmpty() ? null : captured.get(captured.size() - 1);
    if (last == null || last.header != header) {
      last = new Captured(header, new ByteArrayOutputStream());
      captured.add(last);
    }
    last.data.write(b, off, n);
  }

  private Map<String, byte[]> xattrsOf(TarArchiveEntry e) throws UnsafeLayerException, LimitExceededException {
    String what = "layer " + layer + ": entry `" + e.getName() + "`";
    Map<String, byte[]> local = null;
    for (Captured c : captured) {
      byte[] data = c.data.toByteArray();
      if (c.header.isGlobalPaxHeader()) {
        PaxRecords.apply(data, data.length, globalRecords, what + " (global pax header)");
        long size = 0;
        for (Map.Entry<String, byte[]> r : globalRecords.entrySet()) {
          size += r.getKey().length() + r.getValue().length;
        }
        if (size > MAX_PAX_BYTES) {
          throw new LimitExceededException("layer " + layer + ": global pax headers are over " + MAX_PAX_BYTES + " bytes");
        }
      } else if (local != null) {
        // tar readers differ on which of two headers wins; no producer writes two
        throw new UnsafeLayerException(what + ": more than one pax extended header");
      } else {
        local = new LinkedHashMap<>(globalRecords);
        PaxRecords.apply(data, data.length, local, what);
      }
    }
    Map<String, byte[]> records = local != null ? local : globalRecords;
    agree(e, records, what);
    return records.isEmpty() ? Map.of() : PaxRecords.xattrs(records, what);
  }

  /** Both parsers must have read the same xattr records (see the class comment). */
  private static void agree(TarArchiveEntry e, Map<String, byte[]> records, String what) throws UnsafeLayerException {
    Map<String, String> theirs = new TreeMap<>();
    for (Map.Entry<String, String> h : e.getExtraPaxHeaders().entrySet()) {
      if (PaxRecords.isXattrKeyword(h.getKey())) {
        theirs.put(h.getKey(), h.getValue());
      }
    }
    Map<String, String> ours = new TreeMap<>();
    for (Map.Entry<String, byte[]> r : records.entrySet()) {
      ours.put(r.getKey(), new String(r.getValue(), StandardCharsets.UTF_8));
    }
    Set<String> keywords = new TreeSet<>(ours.keySet());
    keywords.addAll(theirs.keySet());
    for (String k : keywords) {
      if (!Objects.equals(ours.get(k), theirs.get(k))) {
        throw new UnsafeLayerException(what + ": pax record " + k + " reads differently in commons-compress");
      }
    }
  }
}
