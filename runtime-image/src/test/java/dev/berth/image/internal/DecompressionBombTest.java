package dev.berth.image.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.github.luben.zstd.ZstdOutputStream;
import dev.berth.image.Digest;
import dev.berth.image.LimitExceededException;
import dev.berth.image.MediaTypes.Compression;
import dev.berth.image.UnpackLimits;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gzip and zstd bombs of 10 GiB uncompressed. The bombs are generated lazily by a producer thread (so
 * the test does not spend minutes compressing 10 GiB up front); the unpacker must stop them by its
 * budgets, counting bytes written, within seconds.
 */
class DecompressionBombTest {
  @TempDir Path layer;
  static final long GIB = 1L << 30;
  static final long MIB = 1L << 20;

  /** A lazily produced compressed tar of {@code entries} zero-filled files of {@code size} bytes. */
  static InputStream bomb(Compression c, long entries, long size, AtomicLong produced) throws IOException {
    PipedInputStream in = new PipedInputStream(1 << 20);
    PipedOutputStream pipe = new PipedOutputStream(in);
    // PipedInputStream only wakes a waiting reader on flush (else it polls once a second)
    OutputStream po = new java.io.FilterOutputStream(pipe) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        pipe.write(b, off, len);
        pipe.flush();
      }

      @Override
      public void write(int b) throws IOException {
        pipe.write(b);
        pipe.flush();
      }
    };
    Thread t = new Thread(() -> {
      try (OutputStream comp = c == Compression.GZIP
              ? new GZIPOutputStream(po, 1 << 16) {
                {
                  def.setLevel(Deflater.BEST_SPEED);
                }
              }
              : new ZstdOutputStream(po, 1);
          TarArchiveOutputStream tar = new TarArchiveOutputStream(comp)) {
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        byte[] zeros = new byte[1 << 20];
        for (long i = 0; i < entries; i++) {
          TarArchiveEntry e = new TarArchiveEntry("f" + i);
          e.setSize(size);
          tar.putArchiveEntry(e);
          for (long left = size; left > 0; left -= zeros.length) {
            int n = (int) Math.min(zeros.length, left);
            tar.write(zeros, 0, n);
            produced.addAndGet(n);
          }
          tar.closeArchiveEntry();
        }
      } catch (IOException expected) {
        // the reader stopped: the bomb was defused
      }
    }, "bomb-producer");
    t.setDaemon(true);
    t.start();
    return in;
  }

  long writtenOnDisk() throws IOException {
    try (Stream<Path> s = Files.walk(layer)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  void manySmallEntries(Compression c) throws Exception {
    AtomicLong produced = new AtomicLong();
    UnpackLimits limits = UnpackLimits.DEFAULTS.withMaxTotalBytes(32 * MIB);
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      try (InputStream in = bomb(c, 10 * 1024, MIB, produced)) { // 10 GiB in 1 MiB files
        assertThatThrownBy(() -> LayerUnpacker.unpack(in, c, Digest.sha256Of("x"), layer, limits, "bomb"))
            .isInstanceOf(LimitExceededException.class)
            .hasMessageContaining("over the budget of " + 32 * MIB)
            .hasMessageContaining("(" + 32 * MIB + " written so far)");
      }
    });
    assertThat(writtenOnDisk()).isEqualTo(32 * MIB);
    // (the producer may run ahead by whatever fits in the pipe: a MiB of zstd is gigabytes of zeros)
  }

  @Test
  void gzipBombStoppedByWrittenBytesBudget() throws Exception {
    manySmallEntries(Compression.GZIP);
  }

  @Test
  void zstdBombStoppedByWrittenBytesBudget() throws Exception {
    manySmallEntries(Compression.ZSTD);
  }

  @Test
  void singleHugeEntryStoppedByPerEntryBudgetBeforeWriting() throws Exception {
    for (Compression c : new Compression[] {Compression.GZIP, Compression.ZSTD}) {
      AtomicLong produced = new AtomicLong();
      assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
        try (InputStream in = bomb(c, 1, 10 * GIB, produced)) {
          assertThatThrownBy(() -> LayerUnpacker.unpack(in, c, Digest.sha256Of("x"), layer, UnpackLimits.DEFAULTS, "bomb"))
              .isInstanceOf(LimitExceededException.class)
              .hasMessageContaining("`f0`")
              .hasMessageContaining("per-entry budget");
        }
      });
      assertThat(writtenOnDisk()).isZero();
    }
  }

  @Test
  void entryCountBudgetStopsEmptyFileFlood() throws Exception {
    AtomicLong produced = new AtomicLong();
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
      try (InputStream in = bomb(Compression.ZSTD, 1_000_000, 0, produced)) {
        assertThatThrownBy(() -> LayerUnpacker.unpack(in, Compression.ZSTD, Digest.sha256Of("x"), layer,
                UnpackLimits.DEFAULTS.withMaxEntries(200), "bomb"))
            .isInstanceOf(LimitExceededException.class)
            .hasMessageContaining("more than 200 entries");
      }
    });
  }
}
