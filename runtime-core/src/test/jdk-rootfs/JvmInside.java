/**
 * Runs inside a container of JvmLimitsIT (compiled into its root by build.sh): prints what this JVM
 * sized itself by and whether the container's own host name resolves. Run with
 * -XX:+PrintFlagsFinal for MaxHeapSize.
 */
public class JvmInside {
    public static void main(String[] args) throws Exception {
        System.out.println("availableProcessors=" + Runtime.getRuntime().availableProcessors());
        System.out.println("maxMemory=" + Runtime.getRuntime().maxMemory());
        try {
            System.out.println("localHost=" + java.net.InetAddress.getLocalHost());
        } catch (java.net.UnknownHostException e) {
            System.out.println("localHost failed: " + e);
        }
    }
}
