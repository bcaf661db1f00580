package dev.berth.examples.cli;

import dev.berth.core.Container;
import dev.berth.core.ContainerException;
import dev.berth.core.ContainerInfo;
import dev.berth.core.ContainerRuntime;
import java.nio.file.Path;
import java.util.List;

/** {@link Containers} over a {@link ContainerRuntime} on the launcher's roots. */
final class RuntimeContainers implements Containers {
    private final ContainerRuntime runtime;

    private RuntimeContainers(ContainerRuntime runtime) {
        this.runtime = runtime;
    }

    static Containers open(Path stateRoot, Path storageRoot) {
        return new RuntimeContainers(ContainerRuntime.builder().stateRoot(stateRoot).storageRoot(storageRoot).build());
    }

    @Override
    public List<ContainerInfo> list() {
        return runtime.list();
    }

    @Override
    public Container open(String id) {
        return runtime.container(id).orElseThrow(() -> new ContainerException("container " + id + ": gone"));
    }

    @Override
    public void remove(String id, boolean force) {
        runtime.remove(id, force);
    }

    @Override
    public void close() {
        runtime.close();
    }
}
