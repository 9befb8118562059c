package io.quorumd.command;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Checked by a (re)started agent before its first keep-alive: is the command of the previous
 * agent run surely gone? Only then may the agent announce it (SPEC, "restart certificate").
 *
 * <p>Rules, in order:
 * <ul>
 *   <li>no {@code command.state}: no command was ever started here: certified, term 0;
 *   <li>{@code stopped}: the previous agent saw the group empty: certified, its term;
 *   <li>{@code starting}, recorded under another kernel boot id: the host rebooted since, and no
 *       process survives that: certified;
 *   <li>{@code starting}, recorded under systemd in the cgroup this agent runs in now, and that
 *       cgroup holds no process but this agent: certified (systemd does not restart a unit while
 *       any process of its cgroup is left, and with {@code KillMode=mixed} it SIGKILLs them);
 *   <li>{@code starting} with the wrapper's group id for the same run: certified once no
 *       process of that group is alive (zombies do not count), else {@link Verdict#GROUP_ALIVE};
 *       the previous run's watchdog owns that group and is stopping it, so the caller may poll
 *       ({@link #await});
 *   <li>{@code starting} with no group id (the agent died between recording and the wrapper's
 *       first line), or a record that cannot be read: {@link Verdict#UNKNOWN}, never certified
 *       unless the group id appears later. The cluster then waits out the lease.
 * </ul>
 * SPEC words the group test as {@code kill(-pgid, 0)} failing with ESRCH; that also counts
 * zombies, which never go away where PID 1 does not reap, so {@code /proc} is read instead.
 */
public final class RestartCertificate {
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    public enum Verdict {
        CERTIFIED, GROUP_ALIVE, UNKNOWN
    }

    /**
     * @param lastCommandTerm the term of the last command started here (0 if none), meaningful
     *     when certified
     * @param pgid the recorded group, or -1
     */
    public record Result(Verdict verdict, long lastCommandTerm, int pgid, String detail) {
        public boolean certified() {
            return verdict == Verdict.CERTIFIED;
        }
    }

    private RestartCertificate() {}

    public static Result check(Path stateDir) {
        return check(stateDir, Host.current());
    }

    /** Polls {@link #check} until it certifies or {@code deadlineNanos} ({@link System#nanoTime()}) passes. */
    public static Result await(Path stateDir, long deadlineNanos) throws InterruptedException {
        return await(stateDir, deadlineNanos, Host.current());
    }

    static Result await(Path stateDir, long deadlineNanos, Host host) throws InterruptedException {
        while (true) {
            Result r = check(stateDir, host);
            if (r.certified() || System.nanoTime() - deadlineNanos >= 0) {
                return r;
            }
            TimeUnit.NANOSECONDS.sleep(Math.min(POLL_NANOS, deadlineNanos - System.nanoTime()));
        }
    }

    static Result check(Path stateDir, Host host) {
        CommandRecord rec;
        try {
            rec = CommandRecord.read(stateDir);
        } catch (IOException e) {
            return new Result(Verdict.UNKNOWN, 0, -1, "cannot read the command record: " + e.getMessage());
        }
        if (rec == null) {
            return new Result(Verdict.CERTIFIED, 0, -1, "no command was ever started from " + stateDir);
        }
        long term = rec.term();
        if (rec.state().equals("stopped")) {
            return new Result(Verdict.CERTIFIED, term, -1, "the command of term " + term + " was seen stopped");
        }
        if (!rec.kernelBootId().isEmpty() && !host.kernelBootId().isEmpty()
                && !rec.kernelBootId().equals(host.kernelBootId())) {
            return new Result(Verdict.CERTIFIED, term, -1, "the host rebooted since the command of term " + term
                    + " started (kernel boot id " + rec.kernelBootId() + ", now " + host.kernelBootId() + ")");
        }
        if (!rec.cgroup().isEmpty() && rec.cgroup().equals(host.systemdCgroup())) {
            List<Long> others = host.otherCgroupProcesses();
            if (others != null && others.isEmpty()) {
                return new Result(Verdict.CERTIFIED, term, -1, "the systemd cgroup " + rec.cgroup()
                        + " holds no process but this agent");
            }
        }
        int pgid;
        try {
            pgid = CommandRecord.readPgid(stateDir, rec.run());
        } catch (IOException e) {
            return new Result(Verdict.UNKNOWN, term, -1, "cannot read the command's group id: " + e.getMessage());
        }
        if (pgid < 0) {
            return new Result(Verdict.UNKNOWN, term, -1, "the command of term " + term
                    + " was being started but its process group id was never recorded");
        }
        List<Integer> members = Signals.groupMembers(pgid);
        if (members.isEmpty()) {
            return new Result(Verdict.CERTIFIED, term, pgid, "process group " + pgid + " of the command of term "
                    + term + " is empty");
        }
        return new Result(Verdict.GROUP_ALIVE, term, pgid, "process group " + pgid + " of the command of term "
                + term + " still has live processes " + members);
    }
}
