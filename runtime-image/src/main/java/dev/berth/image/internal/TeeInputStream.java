package dev.berth.image.internal;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.function.LongConsumer;

/**
 * Copies every byte read through it to {@code sink}, up to {@code copyLimit} bytes (reading goes
 * on past it, so a digest further up still sees the whole stream), and reports each read's size.
 * Lets an import store a layer blob while the same read feeds the unpacker.
 */
public final class TeeInputStream extends FilterInputStream {
  private final OutputStream sink;
  private final long copyLimit;
  private final LongConsumer onRead;
  private long copied;

  public TeeInputStream(InputStream in, OutputStream sink, long copyLimit, LongConsumer onRead) {
    super(in);
    this.sink = sink;
    this.copyLimit = copyLimit;
    this.onRead = onRead;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n <= 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = in.read(b, off, len);
    if (n > 0) {
      int keep = (int) Math.min(n, copyLimit - copied);
      if (keep > 0) {
        sink.write(b, off, keep);
        copied += keep;
      }
      onRead.accept(n);
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    return CountingDigestInputStream.skipByReading(this, n);
  }

  @Override
  public boolean markSupported() {
    return false;
  }
}
