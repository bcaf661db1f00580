package dev.berth.examples.cli;

import dev.berth.core.Container;
import dev.berth.core.ExecProcess;
import java.util.ArrayList;
import java.util.List;
import sun.misc.Signal;

/**
 * Passes the launcher's own signals on to the container, the way docker run --sig-proxy does.
 * Installed before the container starts: a signal that arrives while it is starting is held
 * and delivered as soon as it runs, never lost to the JVM's default handling.
 */
final class SignalForwarder {
    private final List<Integer> pending = new ArrayList<>();
    private Attached container;

    SignalForwarder(String... names) {
        for (String name : names) {
            try {
                Signal.handle(new Signal(name), s -> deliver(s.getNumber()));
            } catch (IllegalArgumentException e) {
                // the JVM reserves this signal (or the platform lacks it): leave it alone
            }
        }
    }

    private synchronized void deliver(int signal) {
        if (container == null) {
            pending.add(signal);
        } else {
            container.signal(signal);
        }
    }

    /** From now on signals go to {@code c}; the ones that came during its start go first. */
    void attach(Container c) {
        attach(Attached.of(c));
    }

    /** From now on signals go to the exec'd process {@code p}. */
    void attach(ExecProcess p) {
        attach(Attached.of(p));
    }

    private synchronized void attach(Attached c) {
        container = c;
        pending.forEach(c::signal);
        pending.clear();
    }
}
