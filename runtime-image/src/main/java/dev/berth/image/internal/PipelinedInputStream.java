package dev.berth.image.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Reads {@code source} to its end on a separate thread (decompression and hashing there), handing
 * chunks to the consumer through a small bounded queue, so that decompression overlaps with the
 * file-system work of the consumer. The producer always reads the source to EOF (it drains), so a
 * digest computed inside {@code source} covers every byte; failures of the source surface at the
 * consumer's next read. {@link #close()} stops the producer and waits for it (up to 5 s) but does
 * not close {@code source}: its owner frees it after that.
 *
 * <p>The chunks circulate between the two threads instead of being allocated per read: a layer
 * streams hundreds of megabytes, and fresh arrays for each chunk cost a page fault and zeroing per
 * page of new heap, which on small machines was a tenth of an import's CPU time.
 */
final class PipelinedInputStream extends InputStream {
  private static final int CHUNK = 256 * 1024;
  private static final int CHUNKS = 8;

  /** A buffer and how much of it holds data; the {@link #EOF} instance marks the end of the stream. */
  private static final class Chunk {
    final byte[] data;
    int length;

    Chunk(byte[] data) {
      this.data = data;
    }
  }

  private static final Chunk EOF = new Chunk(new byte[0]);

  private final BlockingQueue<Chunk> full = new ArrayBlockingQueue<>(CHUNKS + 1);
  private final BlockingQueue<Chunk> free = new ArrayBlockingQueue<>(CHUNKS);
  private final Thread producer;
  private volatile boolean stopped;
  private volatile Throwable failure;
  private Chunk current;
  private int pos;
  private boolean eof;

  PipelinedInputStream(InputStream source, String name) {
    for (int i = 0; i < CHUNKS; i++) {
      free.add(new Chunk(new byte[CHUNK]));
    }
    Runnable body = () -> {
      try {
        while (!stopped) {
          Chunk c = take(free);
          if (c == null) {
            break;
          }
          int n = source.readNBytes(c.data, 0, CHUNK);
          if (n <= 0) {
            break;
          }
          c.length = n;
          put(c);
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

  private Chunk take(BlockingQueue<Chunk> q) throws InterruptedException {
    while (!stopped) {
      Chunk c = q.poll(100, TimeUnit.MILLISECONDS);
      if (c != null) {
        return c;
      }
    }
    return null;
  }

  private void put(Chunk c) throws InterruptedException {
    while (!stopped) {
      if (full.offer(c, 100, TimeUnit.MILLISECONDS)) {
        return;
      }
    }
  }

  private boolean fill() throws IOException {
    while (current == null || pos == current.length) {
      if (eof) {
        return false;
      }
      if (current != null) {
        free.offer(current); // back to the producer
        current = null;
      }
      Chunk c;
      try {
        c = full.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while unpacking");
      }
      pos = 0;
      if (c == EOF) {
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
      current = c;
    }
    return true;
  }

  @Override
  public int read() throws IOException {
    if (!fill()) {
      return -1;
    }
    return current.data[pos++] & 0xff;
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
    System.arraycopy(current.data, pos, b, off, n);
    pos += n;
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    long done = 0;
    while (done < n && fill()) {
      int k = (int) Math.min(n - done, current.length - pos);
      pos += k;
      done += k;
    }
    return done;
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
    full.clear();
    try {
      producer.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
