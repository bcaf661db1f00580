package dev.berth.core;

import dev.berth.core.internal.Signals;

/**
 * Signal names as docker's {@code --signal} and an image's {@code StopSignal} spell them, for
 * {@link Container#signal(int)}: {@code SIGTERM}, {@code TERM}, {@code term}, {@code 15},
 * {@code SIGRTMIN+3}; Linux numbering.
 */
public final class SignalNames {
    private SignalNames() {}

    /**
     * The number of the signal {@code name} names.
     *
     * @throws IllegalArgumentException for an unknown name or a number outside 1-64:
     *                                  {@code signal: unknown signal "SIGFOO"}
     */
    public static int number(String name) {
        return Signals.parse(name);
    }
}
