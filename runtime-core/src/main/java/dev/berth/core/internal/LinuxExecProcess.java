package dev.berth.core.internal;

import dev.berth.core.ExecProcess;
import dev.berth.core.ExitStatus;
import dev.berth.core.TerminalSize;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process exec'd into a running container: its pidfd, its monitor's control socket and its
 * streams. Its exit comes like a container's: the reactor reads the monitor's report, the cleanup
 * thread reaps the monitor and completes the future, and dependants run on the callback executor.
 */
public final class LinuxExecProcess implements ExecProcess, Reactor.Handler {
    private static final Logger LOG = LoggerFactory.getLogger(LinuxExecProcess.class);

    private final Syscalls sys;
    private final String name;
    private final long pid;
    private final long monitorPid;
    private final int ctlFd;
    private final OutputStream stdin;
    private final InputStream stdout;
    private final InputStream stderr;
    private final PtyMaster terminal;
    private final Supervision supervision;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    /** Completed once the monitor is reaped: {@link #close()} returns only after it. */
    private final CompletableFuture<Void> reaped = new CompletableFuture<>();
    private final Object lock = new Object();
    private volatile Runnable onEnded = () -> { };
    private int pidfd;
    private boolean ctlClosed;

    LinuxExecProcess(Syscalls sys, String name, long pid, int pidfd, long monitorPid, int ctlFd, OutputStream stdin,
            InputStream stdout, InputStream stderr, PtyMaster terminal, Supervision supervision) {
        this.sys = sys;
        this.name = name;
        this.pid = pid;
        this.pidfd = pidfd;
        this.monitorPid = monitorPid;
        this.ctlFd = ctlFd;
        this.stdin = terminal != null ? terminal.input() : stdin;
        this.stdout = terminal != null ? terminal.output() : stdout;
        this.stderr = stderr;
        this.terminal = terminal;
        this.supervision = supervision;
    }

    /** Runs once on the cleanup thread after the process ended and its monitor was reaped. */
    public void whenEnded(Runnable r) {
        this.onEnded = r;
    }

    /** Reactor thread: reads the monitor's report and hands the rest to the cleanup thread. */
    @Override
    public boolean onReadable() {
        byte[] buf = new byte[64];
        int n = sys.read(ctlFd, buf, 0, buf.length);
        ExitStatus status;
        if (n > 0) {
            MonitorMessage m = MonitorMessage.decode(buf, n);
            if (m.type() != 'W') {
                LOG.warn("{}: unexpected monitor message {}", name, m);
                return false;
            }
            status = LinuxContainer.toExitStatus(m.value());
        } else {
            // the monitor died without reporting; the process died with it (its parent-death signal)
            status = ExitStatus.killed(Syscalls.SIGKILL);
        }
        release();
        supervision.cleanup().execute(() -> ended(status));
        return true;
    }

    @Override
    public void onFailure(RuntimeException e) {
        synchronized (lock) {
            if (pidfd >= 0) {
                sys.pidfdSendSignal(pidfd, Syscalls.SIGKILL);
            }
        }
        release();
        supervision.cleanup().execute(() -> {
            try {
                sys.waitpid(monitorPid, false);
            } finally {
                exit.completeExceptionally(new IllegalStateException(name + ": supervision failed: " + e.getMessage(), e));
                reaped.complete(null);
                runEnded();
            }
        });
    }

    private void release() {
        synchronized (lock) {
            if (!ctlClosed) {
                sys.close(ctlFd); // also takes it out of the reactor's epoll set
                ctlClosed = true;
            }
            if (pidfd >= 0) {
                sys.close(pidfd);
                pidfd = -1;
            }
        }
    }

    private void ended(ExitStatus status) {
        try {
            sys.waitpid(monitorPid, false); // the monitor exits right after its report
        } finally {
            LOG.debug("{} ended: {}", name, status);
            exit.complete(status);
            reaped.complete(null);
            runEnded();
        }
    }

    private void runEnded() {
        try {
            onEnded.run();
        } catch (RuntimeException e) {
            LOG.warn("{}: after its end: {}", name, e.getMessage(), e);
        }
    }

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public CompletableFuture<ExitStatus> onExit() {
        return supervision.forCallers(exit);
    }

    @Override
    public boolean isRunning() {
        return !exit.isDone();
    }

    @Override
    public void signal(int signal) {
        if (signal <= 0 || signal > 64) {
            throw new IllegalArgumentException("signal: " + signal + " is not a signal number");
        }
        synchronized (lock) {
            if (pidfd < 0) {
                return;
            }
            try {
                sys.pidfdSendSignal(pidfd, signal);
            } catch (SyscallException e) {
                throw new IllegalStateException(name + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public void kill() {
        signal(Syscalls.SIGKILL);
    }

    @Override
    public Optional<ExitStatus> waitFor(Duration timeout) throws InterruptedException {
        try {
            return Optional.of(exit.get(Math.max(0, timeout.toMillis()), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            return Optional.empty();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public OutputStream stdin() {
        if (stdin == null) {
            throw new IllegalStateException(name + ": stdin is not a pipe (ExecSpec: Stdio.pipe())");
        }
        return stdin;
    }

    @Override
    public InputStream stdout() {
        if (stdout == null) {
            throw new IllegalStateException(name + ": stdout is not a pipe (ExecSpec: Stdio.pipe())");
        }
        return stdout;
    }

    @Override
    public InputStream stderr() {
        if (terminal != null) {
            throw new IllegalStateException(name + ": stderr goes to its terminal: read stdout()");
        }
        if (stderr == null) {
            throw new IllegalStateException(name + ": stderr is not a pipe (ExecSpec: Stdio.pipe())");
        }
        return stderr;
    }

    @Override
    public void resizeTerminal(int columns, int rows) {
        TerminalSize size = new TerminalSize(columns, rows);
        if (terminal == null) {
            throw new IllegalStateException(name + ": has no terminal (ExecSpec: tty(true))");
        }
        if (isRunning()) {
            terminal.resize(size.columns(), size.rows());
        }
    }

    @Override
    public void close() {
        kill();
        boolean interrupted = false;
        while (true) {
            try {
                exit.get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException e) {
                break; // supervision failed; the process was killed and released all the same
            }
        }
        reaped.join();
        for (AutoCloseable c : new AutoCloseable[] {stdin, stdout, stderr, terminal}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception e) {
                    LOG.debug("closing stream", e);
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
