package dev.berth.core.internal;

import dev.berth.core.ContainerStartException;
import dev.berth.core.Stdio;
import dev.berth.core.internal.plan.Op;
import dev.berth.core.internal.plan.OpCode;
import dev.berth.core.internal.plan.Plan;
import dev.berth.core.internal.plan.PlanCompiler;
import dev.berth.core.internal.plan.RootSource;
import dev.berth.core.internal.sys.SyscallException;
import dev.berth.core.internal.sys.Syscalls;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JVM side of the start protocol (docs/architecture.md has the sequence diagram):
 * spawn the monitor with the stdio and control fds in place, send the plan, receive
 * the init's pid, do host-side setup, send go, and wait for exec'd or the failing op,
 * each wait bounded by the start timeout.
 */
public final class Launcher {
    private static final Logger LOG = LoggerFactory.getLogger(Launcher.class);
    /** The monitor finds its control socket here and the plan's extra fds above it. */
    public static final int CONTROL_FD = 3;
    /** Largest plan packet; matches PLAN_CHUNK in berth-init.c (well below the socket's send buffer). */
    static final int PLAN_CHUNK = 65536;

    private final Syscalls sys;
    private final NativeInit init;
    private final Supervision supervision;
    private final Duration startTimeout;

    public Launcher(Syscalls sys, NativeInit init, Supervision supervision, Duration startTimeout) {
        this.sys = sys;
        this.init = init;
        this.supervision = supervision;
        this.startTimeout = startTimeout;
    }

    /**
     * Host-side setup between clone and go: the init exists (its pid is known) but runs nothing
     * yet. Today the state file; later uid maps and network setup.
     */
    public interface HostSetup {
        void afterClone(long initPid, long monitorPid) throws ContainerStartException;

        /**
         * At a {@code SYNC} op of the plan, the init waits until this returns: today to fill new
         * volumes from the image's content, which the init has mounted by then.
         */
        default void atSync(long initPid) throws ContainerStartException {}

        /**
         * The listener fd of the container's seccomp filter (a plan whose SECCOMP op asks for one), once the
         * target exec'd: the callee owns it from here.
         */
        default void seccompListener(LinuxContainer container, int fd) {
            throw new IllegalStateException("a seccomp listener fd came, and nobody takes it");
        }
    }

    /**
     * @param extraFds fds the plan refers to, placed at 4, 5, ... in the monitor (the caller closes its copies)
     */
    public LinuxContainer launch(String id, Plan plan, Stdio in, Stdio out, Stdio err, List<Integer> extraFds,
            HostSetup setup, ExitHandler onEnded, LinuxContainer.Resources resources)
            throws ContainerStartException {
        List<Integer> childSide = new ArrayList<>();
        List<Integer> parentSide = new ArrayList<>();
        int ctl = -1;
        long monitor = -1;
        int pidfd = -1;
        int master = -1;
        int listener = -1;
        long deadline = System.nanoTime() + startTimeout.toNanos();
        try {
            int[] stdin = stdio(in, 0, childSide, parentSide);
            int[] stdout = stdio(out, 1, childSide, parentSide);
            int[] stderr = stdio(err, 2, childSide, parentSide);
            int[] pair = sys.socketpair();
            ctl = pair[0];
            childSide.add(pair[1]);
            Map<Integer, Integer> fds = new LinkedHashMap<>();
            fds.put(0, stdin[0]);
            fds.put(1, stdout[0]);
            fds.put(2, stderr[0]);
            fds.put(CONTROL_FD, pair[1]);
            for (int i = 0; i < extraFds.size(); i++) {
                fds.put(CONTROL_FD + 1 + i, extraFds.get(i));
            }
            monitor = sys.spawn(init.path(),
                    List.of("berth-init", Integer.toString(CONTROL_FD + extraFds.size())), List.of(), fds);
            LOG.debug("container {}: monitor pid {}", id, monitor);
            closeAll(childSide);

            sendPlan(ctl, plan.encode());
            MonitorMessage m = receive(ctl, plan, monitor, deadline, "the clone of the container init");
            if (m.type() != 'C') {
                throw protocolError(m, monitor);
            }
            long initPid = m.value() & 0xffffffffL;
            long monitorPid = monitor;
            if (m.monitorPid() != 0 && m.monitorPid() != monitor) {
                // A detached monitor left the JVM's process tree: the process spawned was its parent,
                // which has exited; reaped now, and nothing of the JVM's to kill or reap any more.
                sys.waitpid(monitor, false);
                monitorPid = m.monitorPid();
                monitor = -1;
            }
            pidfd = sys.pidfdOpen(initPid);
            setup.afterClone(initPid, monitorPid);
            sys.write(ctl, new byte[] {'G'}, 0, 1);
            m = receive(ctl, plan, monitor, deadline, "the exec of the target");
            while (m.type() == 'S') {
                setup.atSync(initPid);
                sys.write(ctl, new byte[] {'G'}, 0, 1);
                m = receive(ctl, plan, monitor, deadline, "the exec of the target");
            }
            if (m.type() == 'T') {
                // the init opened the container's pty (TTY_OPEN): its master comes before the exec report
                master = m.value();
                m = receive(ctl, plan, monitor, deadline, "the exec of the target");
            }
            if (m.type() == 'N') {
                // the target's seccomp filter has a listener: its fd comes before the exec report too
                listener = m.value();
                m = receive(ctl, plan, monitor, deadline, "the exec of the target");
            }
            if (m.type() != 'X' || (master >= 0) != (plan.indexOf(OpCode.TTY_OPEN) >= 0)
                    || (listener >= 0) != wantsListener(plan)) {
                throw protocolError(m, monitor);
            }
            LinuxContainer c;
            if (master >= 0) {
                int owned = master;
                master = -1; // the PtyMaster's from here, even if it fails
                c = new LinuxContainer(sys, id, initPid, pidfd, monitorPid, ctl, new PtyMaster(sys, owned), onEnded,
                        resources, supervision);
            } else {
                c = new LinuxContainer(sys, id, initPid, pidfd, monitorPid, ctl,
                        stdin[1] < 0 ? null : new FdOutputStream(sys, stdin[1]),
                        stdout[1] < 0 ? null : new FdInputStream(sys, stdout[1]),
                        stderr[1] < 0 ? null : new FdInputStream(sys, stderr[1]),
                        onEnded, resources, supervision);
            }
            c.registered(supervision.reactor().register(ctl, c));
            if (listener >= 0) {
                int owned = listener;
                listener = -1;
                setup.seccompListener(c, owned);
            }
            return c;
        } catch (RuntimeException e) { // ContainerStartException too (unchecked)
            closeAll(childSide);
            closeAll(parentSide);
            if (master >= 0) {
                sys.close(master);
            }
            if (listener >= 0) {
                sys.close(listener);
            }
            if (pidfd >= 0) {
                sys.pidfdSendSignal(pidfd, Syscalls.SIGKILL);
                sys.close(pidfd);
            }
            if (ctl >= 0) {
                sys.close(ctl); // the monitor kills its init when the JVM side goes away
            }
            if (monitor > 0) {
                // Not reaped yet, so the pid is still the monitor's. A monitor stuck on an init
                // that ignores SIGKILL for now (uninterruptible sleep) must not hang this thread.
                sys.killChild(monitor, Syscalls.SIGKILL);
                sys.waitpid(monitor, false);
            }
            if (e instanceof SyscallException se) {
                throw new ContainerStartException(se.getMessage(), se.syscall(), se.operand(), se.errno(), se);
            }
            throw e;
        }
    }

    /**
     * Starts a process in a running container from a plan of {@link PlanCompiler#enter}: the
     * monitor enters the container and clones the process, which joins the container's cgroups and
     * runs the target steps. Same protocol as a container's start, without host-side setup.
     *
     * @param name     names the process in errors and logs, e.g. {@code exec [sh] in container web-1}
     * @param extraFds fds the plan refers to (the init's pidfd, the cgroup fds), placed at 4, 5, ...
     *                 in the monitor (the caller closes its copies)
     */
    public LinuxExecProcess enter(String name, Plan plan, Stdio in, Stdio out, Stdio err, List<Integer> extraFds)
            throws ContainerStartException {
        List<Integer> childSide = new ArrayList<>();
        List<Integer> parentSide = new ArrayList<>();
        int ctl = -1;
        long monitor = -1;
        int pidfd = -1;
        int master = -1;
        long deadline = System.nanoTime() + startTimeout.toNanos();
        try {
            int[] stdin = stdio(in, 0, childSide, parentSide);
            int[] stdout = stdio(out, 1, childSide, parentSide);
            int[] stderr = stdio(err, 2, childSide, parentSide);
            int[] pair = sys.socketpair();
            ctl = pair[0];
            childSide.add(pair[1]);
            Map<Integer, Integer> fds = new LinkedHashMap<>();
            fds.put(0, stdin[0]);
            fds.put(1, stdout[0]);
            fds.put(2, stderr[0]);
            fds.put(CONTROL_FD, pair[1]);
            for (int i = 0; i < extraFds.size(); i++) {
                fds.put(CONTROL_FD + 1 + i, extraFds.get(i));
            }
            monitor = sys.spawn(init.path(),
                    List.of("berth-init", Integer.toString(CONTROL_FD + extraFds.size())), List.of(), fds);
            LOG.debug("{}: monitor pid {}", name, monitor);
            closeAll(childSide);

            sendPlan(ctl, plan.encode());
            MonitorMessage m = receive(ctl, plan, monitor, deadline, "the clone of the process", "process");
            if (m.type() != 'C') {
                throw protocolError(m, monitor);
            }
            long pid = m.value() & 0xffffffffL;
            pidfd = sys.pidfdOpen(pid);
            sys.write(ctl, new byte[] {'G'}, 0, 1);
            m = receive(ctl, plan, monitor, deadline, "the exec of the process", "process");
            if (m.type() == 'T') {
                master = m.value();
                m = receive(ctl, plan, monitor, deadline, "the exec of the process", "process");
            }
            if (m.type() != 'X' || (master >= 0) != (plan.indexOf(OpCode.TTY_OPEN) >= 0)) {
                throw protocolError(m, monitor);
            }
            PtyMaster terminal = null;
            if (master >= 0) {
                int owned = master;
                master = -1; // the PtyMaster's from here, even if it fails
                terminal = new PtyMaster(sys, owned);
            }
            LinuxExecProcess p = new LinuxExecProcess(sys, name, pid, pidfd, monitor, ctl,
                    stdin[1] < 0 ? null : new FdOutputStream(sys, stdin[1]),
                    stdout[1] < 0 ? null : new FdInputStream(sys, stdout[1]),
                    stderr[1] < 0 ? null : new FdInputStream(sys, stderr[1]), terminal, supervision);
            supervision.reactor().register(ctl, p);
            return p;
        } catch (RuntimeException e) { // ContainerStartException too (unchecked)
            closeAll(childSide);
            closeAll(parentSide);
            if (master >= 0) {
                sys.close(master);
            }
            if (pidfd >= 0) {
                sys.pidfdSendSignal(pidfd, Syscalls.SIGKILL);
                sys.close(pidfd);
            }
            if (ctl >= 0) {
                sys.close(ctl); // the monitor kills the process when the JVM side goes away
            }
            if (monitor > 0) {
                sys.killChild(monitor, Syscalls.SIGKILL);
                sys.waitpid(monitor, false);
            }
            if (e instanceof SyscallException se) {
                throw new ContainerStartException(name + ": " + se.getMessage(), se.syscall(), se.operand(),
                        se.errno(), se);
            }
            if (e instanceof ContainerStartException cse) {
                throw new ContainerStartException(name + ": " + cse.getMessage(), cse.syscall(), cse.operand(),
                        cse.errno(), cse);
            }
            throw e;
        }
    }

    /**
     * Mounts an ended container's root again, in a fresh mount namespace held by an init that
     * does nothing else ({@link PlanCompiler#holdRoot}), and returns once it is mounted. The root
     * is then reachable as {@link RootHold#root()} until the hold is closed.
     */
    public RootHold holdRoot(String id, RootSource root) throws ContainerStartException {
        int[] ready = sys.pipe();
        int ctl = -1;
        long monitor = -1;
        Plan plan = PlanCompiler.holdRoot(root, CONTROL_FD + 1);
        long deadline = System.nanoTime() + startTimeout.toNanos();
        try {
            int[] pair = sys.socketpair();
            ctl = pair[0];
            try {
                monitor = sys.spawn(init.path(), List.of("berth-init", Integer.toString(CONTROL_FD + 1)), List.of(),
                        Map.of(CONTROL_FD, pair[1], CONTROL_FD + 1, ready[1]));
            } finally {
                sys.close(pair[1]);
                sys.close(ready[1]);
                ready[1] = -1;
            }
            sendPlan(ctl, plan.encode());
            MonitorMessage m = receive(ctl, plan, monitor, deadline, "the clone of the root's holder");
            if (m.type() != 'C') {
                throw protocolError(m, monitor);
            }
            long pid = m.value() & 0xffffffffL;
            long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
            boolean readable = sys.pollIn(ready[0], (int) Math.min(Integer.MAX_VALUE, left));
            if (!readable || sys.read(ready[0], new byte[1], 0, 1) != 1) {
                // The holder died mounting the root (or hangs): the go makes the monitor report why.
                sys.write(ctl, new byte[] {'G'}, 0, 1);
                m = receive(ctl, plan, monitor, deadline, "the root's holder");
                throw protocolError(m, monitor);
            }
            RootHold hold = new RootHold(sys, pid, monitor, ctl, root.mountpoint());
            ctl = -1;
            monitor = -1;
            LOG.debug("container {}: root held by {} for file access", id, pid);
            return hold;
        } catch (RuntimeException e) { // ContainerStartException too (unchecked)
            RootHold.release(sys, monitor, ctl);
            if (e instanceof SyscallException se) {
                throw new ContainerStartException(se.getMessage(), se.syscall(), se.operand(), se.errno(), se);
            }
            throw e;
        } finally {
            sys.close(ready[0]);
        }
    }

    /**
     * {@link #holdRoot} for a rootless runtime ({@link PlanCompiler#holdRootRootless}): the maps written by
     * {@code setup} between the clone and the go; the root is mounted once the holder reports its sync point.
     *
     * @param passFd an fd the monitor gets at {@code CONTROL_FD + 1} (a user namespace the plan clones in), or -1
     */
    public RootHold holdRootRootless(String id, RootSource root, Plan plan, int passFd, HostSetup setup)
            throws ContainerStartException {
        Cloned c = null;
        try {
            c = spawnToClone(plan, passFd, "the clone of the root's holder");
            setup.afterClone(c.pid, c.monitor);
            sys.write(c.ctl, new byte[] {'G'}, 0, 1);
            MonitorMessage m = receive(c.ctl, plan, c.monitor, c.deadline, "the root's holder");
            if (m.type() != 'S') {
                throw protocolError(m, c.monitor);
            }
            RootHold hold = new RootHold(sys, c.pid, c.monitor, c.ctl, root.mountpoint());
            c = null;
            LOG.debug("container {}: root held by {} (rootless) for file access", id, hold.pid());
            return hold;
        } catch (RuntimeException e) { // ContainerStartException too (unchecked)
            throw startFailure(e);
        } finally {
            if (c != null) {
                RootHold.release(sys, c.monitor, c.ctl);
            }
        }
    }

    /**
     * Runs a plan that ends without an exec (its init exits 0 after its last op, e.g.
     * {@link PlanCompiler#removeTree}): {@code setup} runs between the clone and the go (a user namespace's maps);
     * returns once the init exited 0, else fails naming the op.
     *
     * @param passFd an fd the monitor gets at {@code CONTROL_FD + 1} (a user namespace the plan clones in), or -1
     */
    public void runToEnd(String what, Plan plan, int passFd, HostSetup setup) throws ContainerStartException {
        Cloned c = null;
        try {
            c = spawnToClone(plan, passFd, what);
            setup.afterClone(c.pid, c.monitor);
            sys.write(c.ctl, new byte[] {'G'}, 0, 1);
            MonitorMessage m;
            try {
                m = receive(c.ctl, plan, c.monitor, c.deadline, what);
            } catch (EndedInSetup e) {
                if (e.status == 0) {
                    return; // its last op done
                }
                throw e;
            }
            throw protocolError(m, c.monitor);
        } catch (RuntimeException e) { // ContainerStartException too (unchecked)
            throw startFailure(e);
        } finally {
            if (c != null) {
                RootHold.release(sys, c.monitor, c.ctl);
            }
        }
    }

    /**
     * Starts a rootless copy's reader ({@link PlanCompiler#openFiles}) and returns once it serves: {@code setup} runs
     * between the clone and the go (a new user namespace's maps). The monitor gets {@code usernsFd} (when not -1)
     * and then {@code socketFd}, the reader's end of the request socket, at the fds after {@code CONTROL_FD} the plan
     * names; the caller closes its copies.
     */
    public FileReader openFiles(String what, Plan plan, int usernsFd, int socketFd, HostSetup setup)
            throws ContainerStartException {
        Cloned c = null;
        try {
            c = spawnToClone(plan, usernsFd < 0 ? List.of(socketFd) : List.of(usernsFd, socketFd), what);
            setup.afterClone(c.pid, c.monitor);
            sys.write(c.ctl, new byte[] {'G'}, 0, 1);
            Cloned served = c;
            FileReader r = new FileReader(c.pid, () -> {
                // its end of the request socket is closed: the reader exits 0 after its last answer (or failed
                // before, and then says why); else it is killed with the control socket's close
                try {
                    if (sys.pollIn(served.ctl, 2000)) {
                        receive(served.ctl, plan, served.monitor, System.nanoTime() + 1_000_000_000L, what);
                    }
                    return null;
                } catch (EndedInSetup e) {
                    return e.status == 0 ? null : e.getMessage();
                } catch (RuntimeException e) {
                    return e.getMessage();
                } finally {
                    RootHold.release(sys, served.monitor, served.ctl);
                }
            });
            c = null;
            return r;
        } catch (RuntimeException e) { // ContainerStartException too (unchecked)
            throw startFailure(e);
        } finally {
            if (c != null) {
                RootHold.release(sys, c.monitor, c.ctl);
            }
        }
    }

    /**
     * A running copy's reader: its init's pid, and its end, which waits for the reader to exit (the caller has closed
     * its end of the request socket) and returns why it failed, or null when it ended well.
     */
    public record FileReader(long pid, java.util.function.Supplier<String> end) {}

    /** {@link #runToEnd(String, Plan, int, HostSetup)} with no fd passed. */
    public void runToEnd(String what, Plan plan, HostSetup setup) throws ContainerStartException {
        runToEnd(what, plan, -1, setup);
    }

    /** A monitor spawned for a plan that reported its clone: its control socket, pid, and the init's pid. */
    private record Cloned(long monitor, int ctl, long pid, long deadline) {}

    /**
     * Spawns a monitor, sends it {@code plan} and waits for its clone report ({@code C}); the caller then writes the
     * go. On failure nothing is left: the monitor is released (which kills a cloned init).
     */
    private Cloned spawnToClone(Plan plan, int passFd, String what) throws ContainerStartException {
        return spawnToClone(plan, passFd < 0 ? List.of() : List.of(passFd), what);
    }

    /** {@link #spawnToClone(Plan, int, String)} with {@code passFds} at {@code CONTROL_FD + 1}, {@code + 2}, ... */
    private Cloned spawnToClone(Plan plan, List<Integer> passFds, String what) throws ContainerStartException {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        int ctl = -1;
        long monitor = -1;
        try {
            int[] pair = sys.socketpair();
            ctl = pair[0];
            try {
                Map<Integer, Integer> fds = new LinkedHashMap<>();
                fds.put(CONTROL_FD, pair[1]);
                for (int i = 0; i < passFds.size(); i++) {
                    fds.put(CONTROL_FD + 1 + i, passFds.get(i));
                }
                monitor = sys.spawn(init.path(), List.of("berth-init", Integer.toString(CONTROL_FD + passFds.size())),
                        List.of(), fds);
            } finally {
                sys.close(pair[1]);
            }
            sendPlan(ctl, plan.encode());
            MonitorMessage m = receive(ctl, plan, monitor, deadline, what);
            if (m.type() != 'C') {
                throw protocolError(m, monitor);
            }
            Cloned c = new Cloned(monitor, ctl, m.value() & 0xffffffffL, deadline);
            ctl = -1;
            monitor = -1;
            return c;
        } finally {
            if (ctl >= 0 || monitor >= 0) {
                RootHold.release(sys, monitor, ctl);
            }
        }
    }

    /** A failure of a helper plan as the start's exception: a failed syscall keeps its syscall, operand and errno. */
    private static RuntimeException startFailure(RuntimeException e) {
        if (e instanceof SyscallException se) {
            return new ContainerStartException(se.getMessage(), se.syscall(), se.operand(), se.errno(), se);
        }
        return e;
    }

    /** The monitor's K: the init ended before an exec, with this wait status. */
    static final class EndedInSetup extends ContainerStartException {
        private static final long serialVersionUID = 1L;
        final int status;

        EndedInSetup(String message, int status) {
            super(message);
            this.status = status;
        }
    }

    /**
     * The plan as a u32 length followed by its bytes, in packets of at most {@link #PLAN_CHUNK}: a
     * plan with a large argument list or environment exceeds what one packet may hold.
     */
    void sendPlan(int ctl, byte[] plan) {
        byte[] first = new byte[Math.min(PLAN_CHUNK, plan.length + 4)];
        first[0] = (byte) plan.length;
        first[1] = (byte) (plan.length >>> 8);
        first[2] = (byte) (plan.length >>> 16);
        first[3] = (byte) (plan.length >>> 24);
        System.arraycopy(plan, 0, first, 4, first.length - 4);
        sys.write(ctl, first, 0, first.length);
        for (int off = first.length - 4; off < plan.length; off += PLAN_CHUNK) {
            sys.write(ctl, plan, off, Math.min(PLAN_CHUNK, plan.length - off));
        }
    }

    /** Returns {child fd, JVM-side fd or -1}; records what to close when. */
    private int[] stdio(Stdio s, int stdFd, List<Integer> childSide, List<Integer> parentSide) {
        switch (s.kind()) {
            case INHERIT:
                return new int[] {stdFd, -1};
            case NULL: {
                int fd = sys.open("/dev/null", Syscalls.O_RDWR | Syscalls.O_CLOEXEC, 0);
                childSide.add(fd);
                return new int[] {fd, -1};
            }
            case PIPE: {
                int[] p = sys.pipe();
                int child = stdFd == 0 ? p[0] : p[1];
                int parent = stdFd == 0 ? p[1] : p[0];
                childSide.add(child);
                parentSide.add(parent);
                return new int[] {child, parent};
            }
            case FILE:
            case APPEND: {
                String path = s.path().orElseThrow().toString();
                int flags = stdFd == 0 ? Syscalls.O_RDONLY
                        : Syscalls.O_WRONLY | Syscalls.O_CREAT | (s.kind() == Stdio.Kind.APPEND ? Syscalls.O_APPEND : Syscalls.O_TRUNC);
                int fd = sys.open(path, flags | Syscalls.O_CLOEXEC, 0644);
                childSide.add(fd);
                return new int[] {fd, -1};
            }
            default:
                throw new IllegalArgumentException("stdio: " + s);
        }
    }

    private MonitorMessage receive(int ctl, Plan plan, long monitor, long deadline, String awaiting)
            throws ContainerStartException {
        return receive(ctl, plan, monitor, deadline, awaiting, "container");
    }

    /** @param subject what ends when the setup is cut short: the container, or a process exec'd into one */
    private MonitorMessage receive(int ctl, Plan plan, long monitor, long deadline, String awaiting, String subject)
            throws ContainerStartException {
        long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
        if (!sys.pollIn(ctl, (int) Math.min(Integer.MAX_VALUE, left))) {
            String step = subject.equals("container") ? "start: " : "";
            throw new ContainerStartException(step + "berth-init monitor " + monitor + " did not report "
                    + awaiting + " within " + startTimeout.toMillis() + " ms (ContainerRuntime.Builder.startTimeout);"
                    + " the " + subject + " was killed");
        }
        byte[] buf = new byte[8192];
        int[] fd = {-1};
        int n = sys.receive(ctl, buf, fd);
        if (n == 0) {
            int status = sys.waitpid(monitor, false);
            throw new ContainerStartException("berth-init monitor " + monitor + " ended during start: "
                    + LinuxContainer.toExitStatus(status));
        }
        MonitorMessage m;
        try {
            m = MonitorMessage.decode(buf, n, fd[0]);
        } catch (IllegalArgumentException e) {
            if (fd[0] >= 0) {
                sys.close(fd[0]);
            }
            throw new ContainerStartException("berth-init monitor " + monitor + ": " + e.getMessage(), e);
        }
        if (m.type() == 'E') {
            throw startError(plan, m);
        }
        if (m.type() == 'K') {
            throw new EndedInSetup(subject + " ended during setup, before its target was exec'd: "
                    + LinuxContainer.toExitStatus(m.value()), m.value());
        }
        return m;
    }

    /** Whether the plan's seccomp filter asks for a listener fd ({@code SECCOMP_FILTER_FLAG_NEW_LISTENER}). */
    static boolean wantsListener(Plan plan) {
        int at = plan.indexOf(OpCode.SECCOMP);
        return at >= 0 && (((Long) plan.ops().get(at).args().get(1))
                & dev.berth.linux.internal.LinuxConstants.SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0;
    }

    /** Names the failed step: {@code syscall(operand): strerror}. */
    ContainerStartException startError(Plan plan, MonitorMessage m) {
        int index = m.value();
        String syscall = index >= 0 && index < plan.ops().size() ? plan.ops().get(index).code().syscall() : "plan";
        Op op = index >= 0 && index < plan.ops().size() ? plan.ops().get(index) : null;
        String operand = m.operand().isEmpty() && op != null ? op.operand() : m.operand();
        String msg = syscall + "(" + operand + "): " + sys.strerror(m.errno());
        if (op != null && (op.flags() & Op.NOT_ON_PROCFS) != 0 && m.errno() == Syscalls.EPERM) {
            msg += " (a mount target that resolves onto /proc is refused; is it a symlink into /proc in the image?)";
        }
        return new ContainerStartException(msg, syscall, operand, m.errno(), null);
    }

    private ContainerStartException protocolError(MonitorMessage m, long monitor) {
        if (m.type() == 'T') {
            sys.close(m.value()); // a pty master nobody asked for
        }
        return new ContainerStartException("berth-init monitor " + monitor + ": unexpected message " + m);
    }

    private void closeAll(List<Integer> fds) {
        for (int fd : fds) {
            try {
                sys.close(fd);
            } catch (SyscallException e) {
                LOG.debug("close {}", fd, e);
            }
        }
        fds.clear();
    }
}
