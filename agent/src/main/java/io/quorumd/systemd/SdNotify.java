package io.quorumd.systemd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends {@code sd_notify} messages to {@code $NOTIFY_SOCKET}: {@code READY=1} once the sockets are
 * bound and the state is loaded, {@code STATUS=} with role and term, {@code WATCHDOG=1} from the
 * event loop, {@code STOPPING=1} on shutdown.
 *
 * <p>Each message is one datagram from a fresh {@code socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC)}
 * sent with {@code sendto} (libc through JNA), as libsystemd does; a leading {@code @} in
 * {@code NOTIFY_SOCKET} names an abstract socket. There is deliberately no fallback to
 * libsystemd: libc is always there, and one path is one thing to test. The sender is the JVM
 * itself, so {@code NotifyAccess=main} suffices (the launcher {@code exec}s java).
 *
 * <p>Thread-safe. Sending never throws: a failure is logged (once per distinct reason) and the
 * method returns false. Environment values are constructor parameters so tests need not touch the
 * process environment.
 */
public final class SdNotify {
    /** What the managed command must not inherit: it is not the service's main process. */
    public static final List<String> ENV_VARS = List.of("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID");

    static final int AF_UNIX = 1;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = 0x80000;   // 02000000 on x86, arm and most Linux targets
    static final int MSG_NOSIGNAL = 0x4000;
    static final int SUN_PATH_MAX = 108;
    private static final Logger log = LoggerFactory.getLogger(SdNotify.class);

    /** The libc calls used here; {@code LastErrorException} carries errno. */
    interface LibC extends Library {
        int socket(int domain, int type, int protocol) throws LastErrorException;

        NativeLong sendto(int fd, byte[] buf, NativeLong len, int flags, byte[] addr, int addrlen) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }

    private final String socket;
    private final byte[] address;
    private final long watchdogNanos;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private volatile LibC libc;

    /** From this process's environment. */
    public static SdNotify fromEnvironment() {
        return new SdNotify(System.getenv("NOTIFY_SOCKET"), System.getenv("WATCHDOG_USEC"), System.getenv("WATCHDOG_PID"),
                ProcessHandle.current().pid());
    }

    /**
     * @param notifySocket {@code $NOTIFY_SOCKET}: an absolute path or {@code @abstract-name}; null
     *                     outside systemd (then every method is a no-op)
     * @param watchdogUsec {@code $WATCHDOG_USEC}, or null
     * @param watchdogPid  {@code $WATCHDOG_PID}, or null; the watchdog is for us only if it is
     *                     {@code selfPid}
     */
    public SdNotify(String notifySocket, String watchdogUsec, String watchdogPid, long selfPid) {
        byte[] addr = null;
        if (notifySocket != null && !notifySocket.isEmpty()) {
            try {
                addr = sockaddr(notifySocket);
            } catch (IllegalArgumentException e) {
                log.warn("ignoring NOTIFY_SOCKET={}: {}; systemd will not hear READY=1 or the watchdog", notifySocket, e.getMessage());
            }
        }
        this.socket = addr == null ? null : notifySocket;
        this.address = addr;
        this.watchdogNanos = addr == null ? 0 : watchdog(watchdogUsec, watchdogPid, selfPid);
    }

    /** True when there is a socket to notify (running under systemd with {@code Type=notify}). */
    public boolean enabled() {
        return address != null;
    }

    /** {@code READY=1}: start-up is complete. */
    public boolean ready() {
        return notify("READY=1");
    }

    /** {@code STATUS=...}, shown by {@code systemctl status}; made one line. */
    public boolean status(String text) {
        return notify("STATUS=" + text.replaceAll("[\\r\\n]+", " "));
    }

    /** {@code WATCHDOG=1}: call it from the event loop, so that a wedged loop stops the pings. */
    public boolean watchdog() {
        return notify("WATCHDOG=1");
    }

    /** {@code STOPPING=1}: shutdown has begun. */
    public boolean stopping() {
        return notify("STOPPING=1");
    }

    /** {@code EXTEND_TIMEOUT_USEC=...}: start-up or shutdown needs this much longer (systemd 236+). */
    public boolean extendTimeout(Duration d) {
        return notify("EXTEND_TIMEOUT_USEC=" + TimeUnit.NANOSECONDS.toMicros(d.toNanos()));
    }

    /**
     * {@code WATCHDOG_USEC} in nanoseconds, or 0 when the watchdog is off or meant for another
     * process. Ping at half of it, as sd_watchdog_enabled(3) advises.
     */
    public long watchdogIntervalNanos() {
        return watchdogNanos;
    }

    /**
     * Sends {@code state} (newline-separated {@code KEY=VALUE} assignments) as one datagram.
     *
     * @return true if it was sent; false outside systemd or on failure (logged)
     */
    public boolean notify(String state) {
        if (address == null) return false;
        LibC c = libc();
        if (c == null) return false;
        byte[] msg = state.getBytes(StandardCharsets.UTF_8);
        int fd = -1;
        try {
            fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            long n = c.sendto(fd, msg, new NativeLong(msg.length), MSG_NOSIGNAL, address, address.length).longValue();
            if (n != msg.length) {
                once("short", "sd_notify to {} sent {} of {} bytes", socket, n, msg.length);
                return false;
            }
            if (!reported.isEmpty()) reported.removeIf(k -> !k.equals("load"));   // log the next failure again
            return true;
        } catch (LastErrorException e) {
            once("errno " + e.getErrorCode(), "sd_notify to {} failed: {} (errno {}); systemd may consider the "
                    + "service not ready or hung", socket, e.getMessage(), e.getErrorCode());
            return false;
        } finally {
            if (fd >= 0) {
                try {
                    c.close(fd);
                } catch (LastErrorException ignored) {
                    // a datagram socket that was never connected has nothing to flush
                }
            }
        }
    }

    private LibC libc() {
        LibC c = libc;
        if (c != null) return c;
        try {
            c = Native.load("c", LibC.class);
            libc = c;
            return c;
        } catch (LinkageError | RuntimeException e) {
            once("load", "cannot load libc through JNA ({}); systemd will not hear from quorumd. If JNA cannot "
                    + "unpack its native library, set -Djna.tmpdir= to a writable, executable directory", e.toString());
            return null;
        }
    }

    private void once(String reason, String format, Object... args) {
        if (reported.add(reason)) log.warn(format, args);
    }

    /** {@code struct sockaddr_un} for an absolute path or an {@code @abstract} name, cut to its used length. */
    static byte[] sockaddr(String notifySocket) {
        boolean abstractName = notifySocket.startsWith("@");
        if (!abstractName && !notifySocket.startsWith("/"))
            throw new IllegalArgumentException("only an absolute path or an @abstract socket name is supported");
        byte[] name = (abstractName ? notifySocket.substring(1) : notifySocket).getBytes(StandardCharsets.UTF_8);
        // a path needs its NUL inside sun_path; an abstract name starts with a NUL and has none at its end
        int used = name.length + 1;
        if (used > SUN_PATH_MAX)
            throw new IllegalArgumentException("the name is longer than " + (SUN_PATH_MAX - 1) + " bytes");
        if (!abstractName && notifySocket.indexOf('\0') >= 0)
            throw new IllegalArgumentException("a path cannot contain a NUL byte");
        ByteBuffer b = ByteBuffer.allocate(2 + used).order(ByteOrder.nativeOrder());
        b.putShort((short) AF_UNIX);
        if (abstractName) b.put((byte) 0).put(name);
        else b.put(name).put((byte) 0);
        return b.array();
    }

    private static long watchdog(String usec, String pid, long selfPid) {
        if (usec == null || usec.isEmpty()) return 0;
        if (pid != null && !pid.isEmpty() && !pid.equals(Long.toString(selfPid))) {
            log.debug("WATCHDOG_PID={} is not this process ({}): not pinging the watchdog", pid, selfPid);
            return 0;
        }
        try {
            long us = Long.parseLong(usec);
            if (us <= 0) return 0;
            return TimeUnit.MICROSECONDS.toNanos(us);
        } catch (NumberFormatException e) {
            log.warn("ignoring WATCHDOG_USEC={}: not a number of microseconds", usec);
            return 0;
        }
    }
}
