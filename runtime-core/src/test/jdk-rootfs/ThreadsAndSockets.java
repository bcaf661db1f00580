import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs inside a container of SeccompIT (compiled into its root by build.sh): ordinary JVM work under
 * the default seccomp filter. Threads, a loopback server and its clients, and a child process (the
 * JDK spawns through posix_spawn, which tries clone3 first and must fall back to clone on ENOSYS).
 */
public class ThreadsAndSockets {
    public static void main(String[] args) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try {
                    for (int i = 0; i < 8; i++) {
                        Socket s = server.accept();
                        pool.submit(() -> {
                            try (s; DataInputStream in = new DataInputStream(s.getInputStream());
                                 DataOutputStream out = new DataOutputStream(s.getOutputStream())) {
                                out.writeInt(in.readInt() * 2);
                            }
                            return null;
                        });
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                }
            });
            acceptor.start();
            ExecutorService clients = Executors.newFixedThreadPool(8);
            List<Future<Integer>> answers = new ArrayList<>();
            for (int i = 1; i <= 8; i++) {
                int n = i;
                answers.add(clients.submit(() -> {
                    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                         DataOutputStream out = new DataOutputStream(s.getOutputStream());
                         DataInputStream in = new DataInputStream(s.getInputStream())) {
                        out.writeInt(n);
                        return in.readInt();
                    }
                }));
            }
            int sum = 0;
            for (Future<Integer> f : answers) {
                sum += f.get();
            }
            System.out.println("echo sum=" + sum);
            acceptor.join();
            clients.shutdown();
        }
        pool.shutdown();
        String java = System.getProperty("java.home") + "/bin/java";
        Process p = new ProcessBuilder(java, "-Xshare:auto", "-XX:-UsePerfData", "-version").redirectErrorStream(true)
                .start();
        p.getInputStream().readAllBytes();
        System.out.println("child exit=" + p.waitFor());
    }
}
