package dev.berth.core;

/** A listener registration; {@link #close()} ends it, is idempotent and throws nothing. */
@FunctionalInterface
public interface Subscription extends AutoCloseable {
    @Override
    void close();
}
