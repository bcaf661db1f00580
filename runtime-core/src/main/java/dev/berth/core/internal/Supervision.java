package dev.berth.core.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The threads that look after running containers, O(1) in their number: the reactor thread
 * only reads monitor reports; teardown (cgroup removal with its bounded retries, state
 * updates) runs on one cleanup thread; {@code onExit()} dependants run on the callback
 * executor, never on either of those, so user code can neither stall nor deadlock them.
 */
public record Supervision(Reactor reactor, Executor cleanup, Executor callbacks) {

    /**
     * What a caller gets of an exit future the reactor completes: one completing on the callback
     * executor, so that its dependants (user code) never run on the reactor or cleanup thread; once
     * complete, a complete copy (dependants then run on the thread that adds them).
     */
    public <T> CompletableFuture<T> forCallers(CompletableFuture<T> exit) {
        return exit.isDone() ? exit.copy() : exit.whenCompleteAsync((s, e) -> { }, callbacks);
    }

    /**
     * {@code Container.waitFor(timeout)} of a handle whose end is {@code exit}: true once it is complete
     * within the timeout (normally or not: how it failed is for {@code waitFor()} to say).
     */
    public static boolean endsWithin(CompletableFuture<?> exit, java.time.Duration timeout) throws InterruptedException {
        try {
            exit.get(Math.max(0, timeout.toNanos()), java.util.concurrent.TimeUnit.NANOSECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true;
        }
    }
}
