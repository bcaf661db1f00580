package dev.berth.examples.cli;

import dev.berth.core.Container;
import dev.berth.core.ContainerInfo;
import java.util.List;

/**
 * What the container commands ({@code ps}, {@code stop}, {@code logs}, ...) use of a state root: the
 * library's calls, behind one seam, so that the commands' parsing, lookups and output are tested
 * with a fake and the real calls once, in the launcher's IT.
 */
interface Containers extends AutoCloseable {

    /** Every container under the state root, this process's or another's, running or not. */
    List<ContainerInfo> list();

    /** A handle to the container {@code id} (found by {@link #list()}); closing it leaves the container alone. */
    Container open(String id);

    /** Removes the container {@code id}: refused while it runs unless {@code force}, which kills it first. */
    void remove(String id, boolean force);

    @Override
    void close();
}
