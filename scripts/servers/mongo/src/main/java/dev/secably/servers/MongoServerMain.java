package dev.secably.servers;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.ServerVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * Runs mongo-java-server (in-memory backend, oplog enabled for change streams) until SIGTERM/SIGINT.
 *
 * <p>Usage: {@code MongoServerMain [--host 127.0.0.1] [--port 27018] [--version 5.0|4.0|3.6]}
 * (defaults also from env SECABLY_MONGO_HOST / SECABLY_MONGO_PORT / SECABLY_MONGO_VERSION).
 * Prints exactly one line "listening on HOST:PORT" on stdout once the port is bound.
 */
public final class MongoServerMain {

    private MongoServerMain() {}

    public static void main(String[] args) throws InterruptedException {
        String host = env("SECABLY_MONGO_HOST", "127.0.0.1");
        int port = Integer.parseInt(env("SECABLY_MONGO_PORT", "27018"));
        String version = env("SECABLY_MONGO_VERSION", "5.0");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                usage("missing value for " + a);
            }
            switch (a) {
                case "--host" -> host = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--version" -> version = args[++i];
                default -> usage("unknown argument " + a);
            }
        }

        MemoryBackend backend = new MemoryBackend();
        backend.version(parseVersion(version));
        MongoServer server = new MongoServer(backend);
        // must be enabled before bind: change streams (watch()) read the oplog
        server.enableOplog();
        server.bind(host, port);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("shutting down");
            System.out.flush();
            server.shutdownNow();
            stopped.countDown();
        }, "mongo-shutdown"));

        ServerVersion v = parseVersion(version);
        System.out.println("mongo-java-server: in-memory backend, oplog enabled, reports version "
                + v.toVersionString() + " (wire version " + v.getWireVersion() + ")");
        System.out.println("listening on " + host + ":" + port);
        System.out.flush();
        stopped.await();
    }

    private static ServerVersion parseVersion(String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "3.6", "3_6" -> ServerVersion.MONGO_3_6;
            case "4.0", "4_0" -> ServerVersion.MONGO_4_0;
            case "5.0", "5_0" -> ServerVersion.MONGO_5_0;
            default -> {
                usage("unsupported --version " + v + " (use 3.6, 4.0 or 5.0)");
                yield ServerVersion.MONGO_5_0;
            }
        };
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }

    private static void usage(String msg) {
        System.err.println("MongoServerMain: " + msg);
        System.err.println("usage: MongoServerMain [--host 127.0.0.1] [--port 27018] [--version 5.0|4.0|3.6]");
        System.exit(2);
    }
}
