package dev.berth.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A server on the host's loopback address (a free port) that answers every GET with one body, for the
 * tests that a container reaches the host's loopback services through its gateway (user-mode networks
 * forward it there). Close it to stop it.
 */
public final class LoopbackHttpServer implements AutoCloseable {
    private final HttpServer server;

    private LoopbackHttpServer(HttpServer server) {
        this.server = server;
    }

    /** Started, answering {@code body} (UTF-8) with 200 to every request. */
    public static LoopbackHttpServer serving(String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        HttpServer s;
        try {
            s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("bind 127.0.0.1:0: " + e.getMessage(), e);
        }
        s.createContext("/", x -> {
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        s.start();
        return new LoopbackHttpServer(s);
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
