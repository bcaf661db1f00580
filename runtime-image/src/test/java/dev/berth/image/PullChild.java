package dev.berth.image;

import dev.berth.image.registry.PullOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** A separate process pulling into a store: {@code PullChild STORE REFERENCE CERTS_DIR}; prints {@code pulled NAME}. */
public final class PullChild {
  private PullChild() {}

  public static void main(String[] args) throws Exception {
    PullOptions o = PullOptions.builder()
        .authFiles(List.of())
        .certDirectories(List.of(Path.of(args[2])))
        .registriesConf(Path.of(args[0]).resolveSibling("no-registries.conf"))
        .registriesConfDir(Path.of(args[0]).resolveSibling("no-registries.conf.d"))
        .initialBackoff(Duration.ofMillis(10))
        .build();
    try (ImageStore store = ImageStore.open(Path.of(args[0]))) {
      System.out.println("pulled " + store.pull(args[1], o, ImportProgress.NONE).name());
    }
    System.exit(0); // the HTTP client's threads need not wind down
  }
}
