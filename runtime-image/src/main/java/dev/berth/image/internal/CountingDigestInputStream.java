package dev.berth.image.internal;

import dev.berth.image.LimitExceededException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/** Hashes and counts every byte read through it; fails once more than {@code cap} bytes were read. */
public final class CountingDigestInputStream extends FilterInputStream {
  private final MessageDigest digest;
  private final long cap;
  private final String what;
  private long count;

  public CountingDigestInputStream(InputStream in, MessageDigest digest, long cap, String what) {
    super(in);
    this.digest = digest;
    this.cap = cap;
    this.what = what;
  }

  @Override
  public int read() throws IOException {
    int b = in.read();
    if (b >= 0) {
      digest.update((byte) b);
      add(1);
    }
    return b;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = in.read(b, off, len);
    if (n > 0) {
      digest.update(b, off, n);
      add(n);
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    return skipByReading(this, n);
  }

  /**
   * Skips by reading through {@code in}, for filter streams that must see every byte (to hash it,
   * count it or copy it): the default {@code skip} of a filter would pass the skip down unseen.
   */
  static long skipByReading(InputStream in, long n) throws IOException {
    if (n <= 0) {
      return 0;
    }
    byte[] buf = new byte[(int) Math.min(n, 65536)];
    long done = 0;
    while (done < n) {
      int r = in.read(buf, 0, (int) Math.min(buf.length, n - done));
      if (r < 0) {
        break;
      }
      done += r;
    }
    return done;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  private void add(long n) throws LimitExceededException {
    count += n;
    if (count > cap) {
      throw new LimitExceededException(what + ": more than " + cap + " bytes; budget exceeded");
    }
  }

  public long count() {
    return count;
  }

  public byte[] digest() {
    return digest.digest();
  }

  /** Reads and discards everything left, so that the digest covers the whole stream. */
  public void drain() throws IOException {
    byte[] buf = new byte[1 << 16];
    while (read(buf, 0, buf.length) >= 0) {
      // keep hashing
    }
  }
}
