package dev.berth.core.supervise;

import dev.berth.core.ContainerException;
import dev.berth.core.ExecProcess;
import dev.berth.core.ExecSpec;
import dev.berth.core.ExitStatus;
import dev.berth.core.HealthCheck;
import dev.berth.core.HealthResult;
import dev.berth.core.Stdio;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.function.Consumer;

/**
 * Command checks ({@code CMD}, {@code CMD-SHELL}): the command is exec'd into the container as
 * {@code docker exec} would, its stdout and stderr appended to a file private to the runtime (not a
 * pipe: no thread waits on it), its exit awaited through its exit future, and killed when it runs
 * past the check's timeout. Exit code 0 is healthy, anything else unhealthy (docker's rule).
 */
public final class ExecProbe implements HealthProbe {
    private final HealthScheduler scheduler;
    private final Clock clock;

    public ExecProbe(HealthScheduler scheduler, Clock clock) {
        this.scheduler = scheduler;
        this.clock = clock;
    }

    @Override
    public void run(HealthCheck check, Target target, Consumer<HealthResult> done) {
        Instant start = clock.instant();
        Path out = target.outputFile();
        ExecProcess p;
        try {
            Files.deleteIfExists(out);
            p = target.exec(ExecSpec.builder().command(check.command()).stdin(Stdio.discard())
                    .stdout(Stdio.append(out)).stderr(Stdio.append(out)).build());
        } catch (IOException | RuntimeException e) { // ContainerException too (unchecked)
            done.accept(new HealthResult(1, "exec " + check.command().get(0) + ": " + e.getMessage(), start,
                    clock.instant()));
            return;
        }
        boolean[] timedOut = new boolean[1];
        HealthScheduler.Cancellable timer = scheduler.schedule(check.timeout(), () -> {
            timedOut[0] = true;
            p.kill();
        });
        p.onExit().whenComplete((status, failure) -> scheduler.execute(() -> {
            timer.cancel();
            p.close();
            String output = read(out);
            int code;
            if (timedOut[0]) {
                code = -1;
                output = "Health check exceeded timeout (" + check.timeout().toMillis() + " ms)";
            } else if (failure != null) {
                code = 1;
                output = failure.getMessage();
            } else {
                code = exitCode(status);
            }
            done.accept(new HealthResult(code, output, start, clock.instant()));
        }));
    }

    private static int exitCode(ExitStatus s) {
        return s.exited() ? s.exitCode() : 128 + s.signal();
    }

    /** At most the kept length (and a little more, so a multi-byte character at the cut is whole). */
    private static String read(Path out) {
        try (InputStream in = Files.newInputStream(out)) {
            return new String(in.readNBytes(HealthResult.MAX_OUTPUT + 4), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
