package io.quorumd.control;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Who is at the other end of an accepted control connection, as the kernel saw it connect
 * ({@code SO_PEERCRED}: pid, uid, gid), and the supplementary groups of that process (from
 * {@code /proc/PID/status}, read when the connection is accepted).
 *
 * <p>The file descriptor of a JDK socket channel is not public: with the launcher's
 * {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} this reads it and calls
 * {@code getsockopt(SOL_SOCKET, SO_PEERCRED)} through JNA. Without that flag it falls back to the
 * JDK's own {@link ExtendedSocketOptions#SO_PEERCRED}, which names the user and primary group but
 * gives neither the pid nor numbers ({@code uid}, {@code gid} and {@code pid} are then -1, and
 * only the names are compared).
 *
 * @param pid    the peer's pid when it connected, or -1
 * @param uid    its effective uid, or -1 (then see {@code user})
 * @param gid    its effective gid, or -1 (then see {@code group})
 * @param groups its supplementary group ids (empty when unknown)
 * @param user   its user's name, or null when {@code uid} is known
 * @param group  its primary group's name, or null when {@code gid} is known
 */
public record PeerCredentials(long pid, long uid, long gid, List<Long> groups, String user, String group) {
    static final int SOL_SOCKET = 1;
    static final int SO_PEERCRED = 17;   // asm-generic; every architecture the packages are built for

    interface LibC extends Library {
        int getsockopt(int fd, int level, int name, byte[] value, IntByReference length) throws LastErrorException;

        int geteuid();

        Pointer getgrnam(String name);
    }

    private static final LibC C = Native.load("c", LibC.class);
    private static final Method FD_VAL = fdValMethod();

    public PeerCredentials {
        groups = List.copyOf(groups);
    }

    /** Whether the numeric path works here (the launcher's --add-exports is in effect). */
    static boolean exact() {
        return FD_VAL != null;
    }

    /** The credentials of the process that connected {@code ch} (an accepted AF_UNIX channel). */
    static PeerCredentials of(SocketChannel ch) throws IOException {
        if (FD_VAL != null) {
            int fd;
            try {
                fd = (Integer) FD_VAL.invoke(ch);
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new IOException("cannot read the control connection's file descriptor: " + e, e);
            }
            byte[] ucred = new byte[12];
            IntByReference len = new IntByReference(ucred.length);
            try {
                C.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ucred, len);
            } catch (LastErrorException e) {
                throw new IOException("getsockopt(SO_PEERCRED) failed, errno " + e.getErrorCode(), e);
            }
            ByteBuffer b = ByteBuffer.wrap(ucred).order(ByteOrder.nativeOrder());
            long pid = b.getInt(0);
            long uid = Integer.toUnsignedLong(b.getInt(4));
            long gid = Integer.toUnsignedLong(b.getInt(8));
            return new PeerCredentials(pid, uid, gid, supplementaryGroups(pid), null, null);
        }
        UnixDomainPrincipal p = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
        return new PeerCredentials(-1, -1, -1, List.of(), p.user().getName(), p.group().getName());
    }

    /** The {@code Groups:} line of {@code /proc/PID/status}; empty when the process is gone. */
    static List<Long> supplementaryGroups(long pid) {
        if (pid <= 0) return List.of();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (!line.startsWith("Groups:")) continue;
                List<Long> ids = new ArrayList<>();
                for (String g : line.substring(7).trim().split("\\s+")) {
                    if (!g.isEmpty()) ids.add(Long.parseLong(g));
                }
                return ids;
            }
        } catch (IOException | RuntimeException e) {
            // the client exited already: its primary gid still counts
        }
        return List.of();
    }

    /** This process's effective uid. */
    static long selfUid() {
        return Integer.toUnsignedLong(C.geteuid());
    }

    /** The gid of group {@code name} (NSS included), or -1 when there is no such group. */
    static long groupId(String name) {
        if (name == null) return -1;
        Pointer g = C.getgrnam(name);   // struct group { char *gr_name; char *gr_passwd; gid_t gr_gid; ... }
        return g == null ? -1 : Integer.toUnsignedLong(g.getInt(2L * Native.POINTER_SIZE));
    }

    /** As the log shows it: {@code uid 1000 pid 4242}, or the names when the numbers are unknown. */
    public String describe() {
        if (uid < 0) return "user " + user + " (group " + group + ", pid unknown)";
        return "uid " + uid + " pid " + pid;
    }

    private static Method fdValMethod() {
        try {
            Method m = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
            m.setAccessible(true);   // public, in a package exported to us by the launcher's flag
            return m;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
