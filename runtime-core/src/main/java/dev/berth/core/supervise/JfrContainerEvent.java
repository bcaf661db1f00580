package dev.berth.core.supervise;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A {@link dev.berth.core.ContainerEvent} in a flight recording (JFR event {@code dev.berth.ContainerEvent}). */
@Name("dev.berth.ContainerEvent")
@Label("Container Event")
@Category({"Berth", "Containers"})
@Description("Something that happened to a Berth container: created, started, exited, restarting, health_status, ...")
@StackTrace(false)
final class JfrContainerEvent extends jdk.jfr.Event {
    @Label("Container Id")
    String id;

    @Label("Type")
    String type;

    @Label("Detail")
    String detail;
}
