package dev.berth.examples.cli;

import dev.berth.core.Container;
import sun.misc.Signal;

/** Passes the launcher's own signals on to the container, the way docker run --sig-proxy does. */
final class SignalForwarder {
    private SignalForwarder() {}

    static void forward(Container c, String... names) {
        for (String name : names) {
            try {
                Signal.handle(new Signal(name), s -> c.signal(s.getNumber()));
            } catch (IllegalArgumentException e) {
                // the JVM reserves this signal (or the platform lacks it): leave it alone
            }
        }
    }
}
