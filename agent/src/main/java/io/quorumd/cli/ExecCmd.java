package io.quorumd.cli;

import io.quorumd.command.BaseEnv;
import io.quorumd.command.Signals;
import io.quorumd.config.Config;
import io.quorumd.config.PeerConfig;
import io.quorumd.control.ControlClient;
import io.quorumd.control.Reply;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code quorumd exec [-c FILE] [--not-master-exit N] [--] CMD ARGS...}: the cron case. Runs CMD
 * once if this node is the master, with the managed command's environment ({@code command.env}
 * and the {@code QUORUMD_*} variables, {@code QUORUMD_TERM} included), and exits with its status;
 * on any other node exits N (0 by default) without running it, silently.
 *
 * <p>CMD never runs unguarded: it is started held (a shell in a new session and process group that
 * waits for "go" on its stdin), the group is registered with the agent ({@code exec-guard}, which
 * needs the control socket's rights to change state), and only once the agent's watchdog guards it
 * is CMD exec'd. From then on the agent's watchdog, a bash process outside both JVMs, sends
 * {@code stop_signal} to the group at the lease's end and SIGKILL {@code stop_timeout} later, unless
 * the lease is renewed; a {@code kill -9} of this CLI changes nothing to that. CMD's stdin is
 * /dev/null; its stdout and stderr are this CLI's. SIGTERM or SIGINT to the CLI is passed to CMD's
 * group as {@code stop_signal}.
 */
@Command(name = "exec", mixinStandardHelpOptions = true,
        description = {"Run CMD once if this node is the master (with the command's environment and QUORUMD_TERM),"
                + " and exit with its status; on any other node exit 0 (or N) without running it.",
                "If the node loses its lease while CMD runs, CMD's process group gets stop_signal at the lease's end"
                        + " and SIGKILL stop_timeout later, from the agent's watchdog."})
final class ExecCmd implements Callable<Integer> {
    static final String HOLD = "IFS= read -r go && [ \"$go\" = go ] || exit 125; exec \"$@\" < /dev/null";

    @ParentCommand
    Cli cli;
    @CommandLine.Mixin
    Cli.ConfigMixin cfg;
    @Option(names = "--not-master-exit", paramLabel = "N", defaultValue = "0",
            description = "exit status when this node is not the master (default 0)")
    int notMasterExit;
    @Parameters(arity = "1..*", paramLabel = "CMD", description = "the program and its arguments (no shell)")
    List<String> command;

    @Override
    public Integer call() throws Exception {
        if (notMasterExit < 0 || notMasterExit > 255) {
            cli.err.println("quorumd exec: --not-master-exit must be 0 to 255 (got " + notMasterExit + ")");
            return Cli.USAGE;
        }
        Config config = Cli.load(cfg.file, cli.err);
        if (config == null) return Cli.USAGE;
        Path socket = config.controlSocket();
        Reply r = ControlClient.request(socket, "exec-term", Cli.CONTROL_TIMEOUT);
        if (r.exitCode() != Reply.OK) return fail(r);
        String body = r.body().trim();
        if (body.startsWith("not-master")) return notMasterExit;
        long term = parseTerm(body);
        if (term < 0) {
            cli.err.println("quorumd exec: unexpected answer from the agent: " + body);
            return Cli.FAILURE;
        }

        List<String> argv = new ArrayList<>(List.of(tool("setsid"), "--", tool("sh"), "-c", HOLD, "quorumd-exec"));
        argv.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(Redirect.INHERIT).redirectError(Redirect.INHERIT);
        List<String> ids = new ArrayList<>();
        for (PeerConfig p : config.peers()) ids.add(p.id());
        Map<String, String> extra = config.command() != null ? config.command().env() : Map.of();
        new BaseEnv(config.cluster(), config.node(), ids).applyTo(pb.environment(), extra, "master", term, config.node());
        Process held = pb.start();
        int pgid = (int) held.pid();   // setsid execs in place: the JVM's child leads no group, so pid = pgid
        // the fork returns before setsid(2) has run in the child: register the group only once it exists
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (Signals.pgrpOf(pgid) != pgid) {
            if (!held.isAlive() || System.nanoTime() - deadline > 0) {
                held.destroyForcibly();
                cli.err.println("quorumd exec: could not start " + command.get(0) + " in a process group of its own");
                return Cli.FAILURE;
            }
            Thread.sleep(1);
        }
        Reply g = ControlClient.request(socket, java.util.Map.of("op", "exec-guard", "pgid", (long) pgid, "term", term), Cli.CONTROL_TIMEOUT);
        if (g.exitCode() != Reply.OK) {
            held.destroyForcibly();   // still the holding shell: CMD never started
            held.waitFor();
            if (g.exitCode() == Reply.UNAVAILABLE && g.body().contains("is no longer the master")) return notMasterExit;
            return fail(g);
        }
        int stopSignal = config.command() != null ? config.command().stopSignal().number() : 15;
        Thread forward = new Thread(() -> {
            if (held.isAlive()) Signals.signalGroup(pgid, stopSignal);
        }, "quorumd-exec-stop");
        Runtime.getRuntime().addShutdownHook(forward);
        try (OutputStream in = held.getOutputStream()) {
            in.write("go\n".getBytes(StandardCharsets.US_ASCII));
        }
        int code = held.waitFor();
        try {
            Runtime.getRuntime().removeShutdownHook(forward);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs or ran
        }
        ControlClient.request(socket, java.util.Map.of("op", "exec-end", "pgid", (long) pgid), Cli.CONTROL_TIMEOUT);
        return code;
    }

    private int fail(Reply r) {
        cli.err.print(r.body().startsWith("quorumd") ? r.body() : "quorumd exec: " + r.body());
        if (!r.body().endsWith("\n")) cli.err.println();
        cli.err.flush();
        return r.exitCode();
    }

    /** {@code term=T master=ID} to T, or -1. */
    static long parseTerm(String body) {
        for (String w : body.split(" ")) {
            if (w.startsWith("term=") && w.substring(5).matches("[0-9]{1,19}")) return Long.parseLong(w.substring(5));
        }
        return -1;
    }

    private static String tool(String name) throws IOException {
        for (String d : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
            Path p = Path.of(d, name);
            if (Files.isExecutable(p)) return p.toString();
        }
        throw new IOException(name + " not found in /usr/bin, /bin, /usr/sbin or /sbin (install util-linux)");
    }
}
