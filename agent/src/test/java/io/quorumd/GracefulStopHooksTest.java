package io.quorumd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.quorumd.cli.FreePorts;
import io.quorumd.systemd.DatagramReceiver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Item 1 of issue 11, end to end: a real agent JVM ({@code quorumd run}) of a one-node cluster
 * becomes master, gets SIGTERM (what {@code systemctl stop} sends), steps down and runs {@code
 * on_follower}; the hook must run to its end before the JVM exits. Before the fix it wrote "start"
 * and was SIGKILLed through its parent-death signal when the spawner thread ended. And systemd
 * hears (EXTEND_TIMEOUT_USEC) how long the stop may take, so TimeoutStopSec does not cut it short.
 */
class GracefulStopHooksTest {

    @Test
    void onFollowerOfAGracefulStopRunsToItsEnd(@TempDir Path dir) throws Exception {
        Path masterRan = dir.resolve("master.ran");
        Path followerOut = dir.resolve("follower.out");
        Path onMaster = script(dir, "master.sh", "touch " + masterRan);
        Path onFollower = script(dir, "follower.sh", "echo start >> " + followerOut + "; sleep 0.5; echo done >> "
                + followerOut);
        int port = FreePorts.pair(List.of());
        Path config = dir.resolve("quorumd.yaml");
        Files.writeString(config, "cluster: c\nnode: a\nbind: 127.0.0.1\npeers:\n  - {id: a, host: 127.0.0.1, port: "
                + port + "}\nhooks:\n  on_master: " + onMaster + "\n  on_follower: " + onFollower
                + "\n  timeout: 10s\nstate_dir: " + dir.resolve("state") + "\ncontrol_socket: "
                + dir.resolve("control.sock") + "\n", StandardCharsets.UTF_8);
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "run", "-c", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile());
        Path notify = dir.resolve("notify");
        pb.environment().put("NOTIFY_SOCKET", notify.toString());
        List<String> notes = new CopyOnWriteArrayList<>();
        AtomicBoolean listening = new AtomicBoolean(true);
        try (DatagramReceiver systemd = new DatagramReceiver(notify.toString())) {
            Thread listener = new Thread(() -> {
                while (listening.get()) {
                    String m = systemd.receive(50);
                    if (m != null) notes.add(m);
                }
            });
            listener.start();
            Process agent = pb.start();
            try {
                await("the agent became master and ran on_master", 30, () -> Files.exists(masterRan), dir);
                agent.destroy();   // SIGTERM
                assertTrue(agent.waitFor(30, TimeUnit.SECONDS), "the agent exits within 30 s of SIGTERM");
                assertEquals("start\ndone\n", Files.readString(followerOut),
                        "on_follower ran to its end before the agent exited; log:\n" + log(dir));
                // stop_timeout 5 s (default) + hooks.timeout 10 s + 10 s, in microseconds
                await("systemd heard how long the stop may take", 5,
                        () -> notes.contains("EXTEND_TIMEOUT_USEC=25000000"), dir);
                assertTrue(notes.indexOf("STOPPING=1") >= 0 && notes.indexOf("STOPPING=1")
                        < notes.indexOf("EXTEND_TIMEOUT_USEC=25000000"), notes.toString());
            } finally {
                agent.destroyForcibly();
                listening.set(false);
                listener.join(5000);
            }
        }
    }

    private static void await(String what, long seconds, BooleanSupplier cond, Path dir) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + seconds + " s: " + what + "; log:\n" + log(dir));
            }
            Thread.sleep(10);
        }
    }

    private static String log(Path dir) throws IOException {
        Path p = dir.resolve("agent.log");
        return Files.exists(p) ? Files.readString(p) : "(none)";
    }

    private static Path script(Path dir, String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }
}
