package dev.berth.image.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Reads {@code source} to its end on a separate thread (decompression and hashing there), handing
 * chunks to the consumer through a small bounded queue, so that decompression overlaps with the
 * file-system work of the consumer. The producer always reads the source to EOF (it drains), so a
 * digest computed inside {@code source} covers every byte; failures of the source surface at the
 * consumer's next read. {@link #close()} stops the producer.
 */
final class PipelinedInputStream extends InputStream {
  private static final byte[] EOF = new byte[0];
  private static final int CHUNK = 256 * 1024;

  private final BlockingQueue<byte[]> queue = new ArrayBlockingQueue<>(16);
  private final Thread producer;
  private volatile boolean stopped;
  private volatile Throwable failure;
  private byte[] current;
  private int pos;
  private boolean eof;

  PipelinedInputStream(InputStream source, String name) {
    Runnable body = () -> {
      try {
        while (!stopped) {
          byte[] buf = new byte[CHUNK];
          int n = source.readNBytes(buf, 0, CHUNK);
          if (n <= 0) {
            break;
          }
          put(n == CHUNK ? buf : Arrays.copyOf(buf, n));
        }
      } catch (Throwable t) {
        failure = t;
      } finally {
        try {
          put(EOF);
        } catch (InterruptedException ignored) {
          Thread.currentThread().interrupt();
        }
      }
    };
    producer = new Thread(body, "berth-unpack-" + name);
    producer.setDaemon(true);
    producer.start();
  }

  private void put(byte[] b) throws InterruptedException {
    while (!stopped) {
      if (queue.offer(b, 100, TimeUnit.MILLISECONDS)) {
        return;
      }
    }
  }

  private boolean fill() throws IOException {
    while (current == null || pos == current.length) {
      if (eof) {
        return false;
      }
      try {
        current = queue.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while unpacking");
      }
      pos = 0;
      if (current == EOF) {
        eof = true;
        Throwable f = failure;
        if (f instanceof IOException io) {
          throw io;
        }
        if (f instanceof RuntimeException re) {
          throw re;
        }
        if (f instanceof Error er) {
          throw er;
        }
        return false;
      }
    }
    return true;
  }

  @Override
  public int read() throws IOException {
    if (!fill()) {
      return -1;
    }
    return current[pos++] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (!fill()) {
      return -1;
    }
    int n = Math.min(len, current.length - pos);
    System.arraycopy(current, pos, b, off, n);
    pos += n;
    return n;
  }

  /** Consumes everything the producer still sends (it reads the source to its end). */
  void drain() throws IOException {
    while (fill()) {
      pos = current.length;
    }
  }

  @Override
  public void close() {
    stopped = true;
    queue.clear();
    try {
      producer.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
