package io.quorumd.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SdNotifyTest {
    static final long PID = ProcessHandle.current().pid();

    @TempDir Path dir;

    @Test
    void outsideSystemdEverythingIsANoOp() {
        SdNotify n = new SdNotify(null, "30000000", null, PID);
        assertFalse(n.enabled());
        assertFalse(n.ready());
        assertFalse(n.status("x"));
        assertFalse(n.watchdog());
        assertFalse(n.stopping());
        assertEquals(0, n.watchdogIntervalNanos(), "no socket, nobody to ping");
        assertFalse(new SdNotify("", null, null, PID).enabled());
    }

    @Test
    void messagesReachAPathSocket() {
        Path sock = dir.resolve("notify");
        try (DatagramReceiver systemd = new DatagramReceiver(sock.toString())) {
            assertTrue(Files.exists(sock), "the receiver bound the path itself");
            exchange(new SdNotify(sock.toString(), null, null, PID), systemd);
        }
    }

    @Test
    void messagesReachAnAbstractSocket() throws Exception {
        String name = "@quorumd-test-" + UUID.randomUUID();
        try (DatagramReceiver systemd = new DatagramReceiver(name)) {
            assertTrue(Files.readString(Path.of("/proc/net/unix")).contains(name),
                    "the kernel lists the abstract socket " + name);
            exchange(new SdNotify(name, null, null, PID), systemd);
        }
    }

    private static void exchange(SdNotify n, DatagramReceiver systemd) {
        assertTrue(n.enabled());
        assertTrue(n.ready());
        assertEquals("READY=1", systemd.receive(5000));
        assertTrue(n.status("master, term 7\nsecond line"));
        assertEquals("STATUS=master, term 7 second line", systemd.receive(5000));
        assertTrue(n.watchdog());
        assertEquals("WATCHDOG=1", systemd.receive(5000));
        assertTrue(n.extendTimeout(Duration.ofSeconds(20)));
        assertEquals("EXTEND_TIMEOUT_USEC=20000000", systemd.receive(5000));
        assertTrue(n.stopping());
        assertEquals("STOPPING=1", systemd.receive(5000));
        assertTrue(n.notify("READY=1\nSTATUS=follower, term 8 — ünïcode"));
        assertEquals("READY=1\nSTATUS=follower, term 8 — ünïcode", systemd.receive(5000), "one datagram");
        assertNull(systemd.receive(50), "nothing else was sent");
    }

    @Test
    void aMissingSocketIsReportedNotThrown() {
        SdNotify n = new SdNotify(dir.resolve("nobody").toString(), null, null, PID);
        assertTrue(n.enabled());
        assertFalse(n.ready());
        assertFalse(n.watchdog());
        assertFalse(new SdNotify("@quorumd-test-nobody-" + UUID.randomUUID(), null, null, PID).ready());
    }

    @Test
    void unsupportedAddressesAreIgnored() {
        assertFalse(new SdNotify("vsock:2:1234", "1000", null, PID).enabled());
        assertFalse(new SdNotify("relative/path", null, null, PID).enabled());
        assertFalse(new SdNotify("/" + "x".repeat(107), null, null, PID).enabled());
        assertTrue(new SdNotify("/" + "x".repeat(106), null, null, PID).enabled(), "107 bytes and the NUL fit");
        assertThrows(IllegalArgumentException.class, () -> SdNotify.sockaddr("@" + "x".repeat(108)));
        assertEquals(2 + 108, SdNotify.sockaddr("@" + "x".repeat(107)).length);
    }

    @Test
    void watchdogInterval() {
        String s = dir.resolve("n").toString();
        assertEquals(30_000_000_000L, new SdNotify(s, "30000000", null, PID).watchdogIntervalNanos());
        assertEquals(30_000_000_000L, new SdNotify(s, "30000000", Long.toString(PID), PID).watchdogIntervalNanos());
        assertEquals(0, new SdNotify(s, "30000000", Long.toString(PID + 1), PID).watchdogIntervalNanos(), "another process's");
        assertEquals(0, new SdNotify(s, null, null, PID).watchdogIntervalNanos());
        assertEquals(0, new SdNotify(s, "0", null, PID).watchdogIntervalNanos());
        assertEquals(0, new SdNotify(s, "soon", null, PID).watchdogIntervalNanos());
    }
}
