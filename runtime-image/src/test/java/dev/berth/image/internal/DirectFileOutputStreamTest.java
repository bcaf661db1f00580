package dev.berth.image.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DirectFileOutputStreamTest {
  @TempDir Path tmp;

  static byte[] data(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  /** Writes in uneven pieces, as the tee of an import does. */
  static void writeInPieces(Path f, byte[] b) throws IOException {
    try (DirectFileOutputStream out = DirectFileOutputStream.create(f)) {
      int off = 0;
      int step = 1;
      while (off < b.length) {
        int n = Math.min(step, b.length - off);
        out.write(b, off, n);
        off += n;
        step = step * 3 + 1; // 1, 4, 13, ... crosses every block and buffer boundary
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 511, 4095, 4096, 4097, (1 << 20) - 1, 1 << 20, (1 << 20) + 7, 3 * (1 << 20) + 4096 + 1})
  void exactContentAndLengthWhateverTheAlignment(int size) throws IOException {
    byte[] b = data(size);
    Path f = tmp.resolve("blob");
    writeInPieces(f, b);
    assertThat(Files.size(f)).isEqualTo(size);
    assertThat(Files.readAllBytes(f)).isEqualTo(b);
  }

  @Test
  void fallsBackWhereDirectIoIsRefused() throws IOException {
    Path shm = Path.of("/dev/shm");
    assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm)
        && "tmpfs".equals(Files.getFileStore(shm).type()), "needs a writable tmpfs at /dev/shm (no O_DIRECT there)");
    Path dir = Files.createTempDirectory(shm, "berth-direct-");
    try {
      byte[] b = data(2 * (1 << 20) + 123);
      Path f = dir.resolve("blob");
      writeInPieces(f, b);
      assertThat(Files.readAllBytes(f)).isEqualTo(b);
    } finally {
      Files2.deleteTree(dir);
    }
  }

  @Test
  void refusesAnExistingFile() throws IOException {
    Path f = tmp.resolve("there");
    Files.writeString(f, "keep");
    assertThatThrownBy(() -> DirectFileOutputStream.create(f)).isInstanceOf(FileAlreadyExistsException.class);
    assertThat(f).hasContent("keep");
  }
}
