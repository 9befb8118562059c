package io.quorumd.command;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Structure;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Signals and clocks through libc (JNA), and process-group liveness read from {@code /proc}.
 * Java has no API to signal a process group, nor to read {@code CLOCK_BOOTTIME}, which is the
 * clock of {@code /proc/uptime} and therefore the watchdog's.
 */
public final class Signals {
    public static final int SIGHUP = 1;
    public static final int SIGINT = 2;
    public static final int SIGQUIT = 3;
    public static final int SIGKILL = 9;
    public static final int SIGUSR1 = 10;
    public static final int SIGUSR2 = 12;
    public static final int SIGTERM = 15;
    public static final int SIGCONT = 18;
    public static final int SIGSTOP = 19;

    static final int CLOCK_MONOTONIC = 1;
    static final int CLOCK_BOOTTIME = 7;
    private static final int EPERM = 1;
    private static final int ESRCH = 3;

    private static final Path PROC = Path.of("/proc");

    /** What {@link #kill} achieved. */
    public enum Delivery {
        SENT, NO_SUCH_PROCESS, NOT_PERMITTED, FAILED
    }

    /** libc, as JNA binds it; errno is read back with {@link Native#getLastError()}. */
    interface LibC extends Library {
        int kill(int pid, int sig);

        int clock_gettime(int clockId, Timespec tp);
    }

    /** {@code struct timespec}: both fields are C {@code long}s on Linux (64-bit time_t on LP64). */
    @Structure.FieldOrder({"tvSec", "tvNsec"})
    public static final class Timespec extends Structure {
        public NativeLong tvSec;
        public NativeLong tvNsec;
    }

    private static final LibC C = Native.load("c", LibC.class);

    private Signals() {}

    /** {@code kill(pid, sig)} for one process; {@code pid} must be positive. */
    public static Delivery kill(int pid, int sig) {
        if (pid <= 0) {
            throw new IllegalArgumentException("refusing to signal pid " + pid
                    + ": 0 and negative values address groups or every process; use signalGroup");
        }
        return send(pid, sig);
    }

    /**
     * {@code kill(-pgid, sig)}: every process of the group. {@code pgid} must be above 1: {@code
     * kill(0)} would hit the agent's own group and {@code kill(-1)} every process it may signal.
     */
    public static Delivery signalGroup(int pgid, int sig) {
        if (pgid <= 1) {
            throw new IllegalArgumentException("refusing to signal process group " + pgid
                    + ": a managed group id is a positive pid above 1");
        }
        return send(-pgid, sig);
    }

    private static Delivery send(int target, int sig) {
        if (C.kill(target, sig) == 0) {
            return Delivery.SENT;
        }
        int errno = Native.getLastError();
        if (errno == ESRCH) {
            return Delivery.NO_SUCH_PROCESS;
        }
        return errno == EPERM ? Delivery.NOT_PERMITTED : Delivery.FAILED;
    }

    /** {@code CLOCK_BOOTTIME} in nanoseconds: monotonic, and it keeps counting while suspended. */
    public static long bootTimeNanos() {
        return clock(CLOCK_BOOTTIME);
    }

    /** {@code CLOCK_MONOTONIC} in nanoseconds; on Linux the clock behind {@link System#nanoTime()}. */
    public static long monotonicNanos() {
        return clock(CLOCK_MONOTONIC);
    }

    private static long clock(int id) {
        Timespec ts = new Timespec();
        if (C.clock_gettime(id, ts) != 0) {
            throw new IllegalStateException("clock_gettime(" + id + ") failed, errno " + Native.getLastError());
        }
        return ts.tvSec.longValue() * 1_000_000_000L + ts.tvNsec.longValue();
    }

    /**
     * True while some process of the group is not a zombie. {@code kill(-pgid, 0)} is not enough:
     * it counts zombies, and where PID 1 does not reap orphans they linger for ever. A zombie
     * leader whose other threads still run counts as alive.
     */
    public static boolean groupAlive(int pgid) {
        // kill(-pgid, 0) failing with ESRCH: no process at all has that group, zombies included; a
        // cheap answer for the poll after a stop. Otherwise /proc tells the living from zombies.
        if (pgid > 1 && C.kill(-pgid, 0) != 0 && Native.getLastError() == ESRCH) {
            return false;
        }
        return !members(pgid, true).isEmpty();
    }

    /** The live (non-zombie) members of the group, for logs and tests. */
    public static List<Integer> groupMembers(int pgid) {
        return members(pgid, false);
    }

    private static List<Integer> members(int pgid, boolean firstOnly) {
        List<Integer> found = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(PROC)) {
            for (Path p : dir) {
                String name = p.getFileName().toString();
                if (!isNumber(name)) {
                    continue;
                }
                Stat st = stat(Integer.parseInt(name));
                if (st != null && st.pgrp == pgid && st.alive()) {
                    found.add(st.pid);
                    if (firstOnly) {
                        break;
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc to check process group " + pgid + ": " + e, e);
        }
        return found;
    }

    /** The process group of {@code pid}, or -1 when it is gone. */
    public static int pgrpOf(int pid) {
        Stat st = stat(pid);
        return st == null ? -1 : st.pgrp;
    }

    /** True if the process exists and is not a zombie. */
    public static boolean processAlive(int pid) {
        Stat st = stat(pid);
        return st != null && st.alive();
    }

    /** The few fields of {@code /proc/PID/stat} that matter here. */
    record Stat(int pid, char state, int ppid, int pgrp) {
        boolean alive() {
            if (state != 'Z') {
                return true;
            }
            // A zombie thread-group leader with other threads still running lists them in task/.
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(PROC.resolve(pid + "/task"))) {
                for (Path t : tasks) {
                    if (!t.getFileName().toString().equals(Integer.toString(pid))) {
                        return true;
                    }
                }
            } catch (IOException e) {
                return false;
            }
            return false;
        }
    }

    static Stat stat(int pid) {
        String s;
        try {
            s = new String(Files.readAllBytes(PROC.resolve(pid + "/stat")), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return null;
        }
        return parseStat(pid, s);
    }

    /** Parses after the last ')' since the command name may hold spaces and parentheses. */
    static Stat parseStat(int pid, String s) {
        int close = s.lastIndexOf(')');
        if (close < 0 || close + 2 >= s.length()) {
            return null;
        }
        String[] f = s.substring(close + 2).split(" ", 4);
        if (f.length < 3 || f[0].isEmpty()) {
            return null;
        }
        try {
            return new Stat(pid, f[0].charAt(0), Integer.parseInt(f[1]), Integer.parseInt(f[2]));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static boolean isNumber(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * A signal name as the config writes it ({@code TERM}, {@code SIGTERM}, case-insensitive) to
     * its Linux number.
     */
    public static int number(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        if (n.startsWith("SIG")) {
            n = n.substring(3);
        }
        switch (n) {
            case "HUP": return SIGHUP;
            case "INT": return SIGINT;
            case "QUIT": return SIGQUIT;
            case "KILL": return SIGKILL;
            case "USR1": return SIGUSR1;
            case "USR2": return SIGUSR2;
            case "TERM": return SIGTERM;
            default:
                throw new IllegalArgumentException("unknown signal '" + name
                        + "': use TERM, INT, HUP, QUIT, USR1, USR2 or KILL");
        }
    }

    /** The name {@code setpriv --pdeathsig} takes for a signal {@link #number} knows ({@code HUP}, ...). */
    public static String name(int number) {
        for (String n : new String[] {"HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM"}) {
            if (number(n) == number) {
                return n;
            }
        }
        throw new IllegalArgumentException("no name for signal " + number + ": use TERM, INT, HUP, QUIT, USR1, USR2 or KILL");
    }
}
