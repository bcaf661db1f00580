package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Host programs the integration tests drive (producers like umoci and GNU tar, setpriv, setfacl). */
public final class HostTools {
  private HostTools() {}

  /** What a program printed (stdout and stderr together) and its exit status. */
  public record Outcome(int exit, String output) {}


  /** Runs {@code cmd} in {@code cwd}; returns its outcome, whatever the exit status. */
  public static Outcome outcome(Path cwd, String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(String.join(" ", cmd) + " finished").isTrue();
    return new Outcome(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  /** Runs {@code cmd} in {@code cwd} and asserts it succeeded. */
  public static String run(Path cwd, String... cmd) throws IOException, InterruptedException {
    Outcome o = outcome(cwd, cmd);
    assertThat(o.exit()).as(String.join(" ", cmd) + ": " + o.output()).isZero();
    return o.output();
  }

  /**
   * Runs {@code cmd} as user and group nobody (65534) with no supplementary groups. A shell running
   * as nobody looks {@code cmd} up and executes it: setpriv itself finds and runs a program that
   * nobody could not reach (seen with util-linux 2.38), which would hide what nobody can do.
   */
  public static Outcome asNobody(Path cwd, String... cmd) throws IOException, InterruptedException {
    List<String> argv = new ArrayList<>(
        List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "sh", "-c", "exec \"$@\"", "sh"));
    argv.addAll(List.of(cmd));
    return outcome(cwd, argv.toArray(String[]::new));
  }
}
