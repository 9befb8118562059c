package io.quorumd.cli;

import io.quorumd.Agent;
import io.quorumd.AgentFactory;
import io.quorumd.config.BindResolver;
import io.quorumd.config.Config;
import io.quorumd.config.ConfigChecker;
import io.quorumd.config.ConfigException;
import io.quorumd.config.ConfigLoader;
import io.quorumd.config.ConfigPrinter;
import io.quorumd.config.LoadedConfig;
import io.quorumd.config.ResolvedBind;
import io.quorumd.config.UnresolvedBindException;
import io.quorumd.control.ControlClient;
import io.quorumd.control.Reply;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import io.quorumd.security.CurveKeys;
import io.quorumd.security.KeyFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** The {@code quorumd} command line. Exit statuses: 0 ok, 1 runtime failure, 2 usage or config error, 3 no agent / no master. */
@Command(name = "quorumd", mixinStandardHelpOptions = true, versionProvider = Cli.Version.class,
        description = "Elects one master by majority quorum and runs your command on the master only.",
        subcommands = {Cli.Run.class, Cli.Check.class, Cli.StatusCmd.class, Cli.Leader.class, Cli.StepDown.class,
                Cli.DemoCmd.class, Cli.Keygen.class, KvCmd.class, ExecCmd.class},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:ok", "1:runtime failure", "2:usage, config or state file error", "3:agent not reachable / no master",
                "4:not found / compare failed (kv)"},
        footer = {"", "The config file defaults to " + Config.DEFAULT_FILE + ", or $QUORUMD_CONFIG."})
public final class Cli implements Callable<Integer> {
    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int USAGE = 2;
    public static final int UNAVAILABLE = 3;
    static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(5);

    final PrintWriter out;
    final PrintWriter err;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public Cli(PrintWriter out, PrintWriter err) {
        this.out = out;
        this.err = err;
    }

    /** When main() called {@link #execute} first (epoch ms): the start-up line of {@code run} reports it. */
    private static volatile long executeEnteredMillis;

    /** Runs the command line; never calls System.exit. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        if (executeEnteredMillis == 0) executeEnteredMillis = System.currentTimeMillis();
        JnaSearchPath.set();   // before any JNA class: no ldconfig child process on the start path
        Path runConfig = plainRun(args);
        if (runConfig != null) {
            // `run` as the unit starts it skips building picocli's model: that is 200-300 ms of
            // every agent start (picocli's class files predate Java 6, so the class archive cannot
            // hold them), and a restarted agent's certificate fail-over waits for that start.
            try {
                return runAgent(runConfig, err);
            } catch (Exception e) {
                return failed(e, err);
            } finally {
                out.flush();
                err.flush();
            }
        }
        return withPicocli(args, out, err);
    }

    static int withPicocli(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Cli(out, err));
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> failed(e, err));
        // `quorumd exec CMD -x`: CMD's own options are not quorumd's
        cl.getSubcommands().get("exec").setStopAtPositional(true);
        int rc = cl.execute(args);
        out.flush();
        err.flush();
        return rc;
    }

    private static int failed(Exception e, PrintWriter err) {
        err.println("quorumd: " + e.getMessage());
        err.flush();
        return FAILURE;
    }

    /**
     * The config file of a command line that is exactly {@code run}, {@code run -c FILE},
     * {@code run --config FILE} or {@code run --config=FILE}; null for anything else (picocli
     * parses those). The default is {@link ConfigMixin}'s: $QUORUMD_CONFIG, else
     * {@link Config#DEFAULT_FILE}.
     */
    static Path plainRun(String[] args) {
        if (args.length == 0 || !args[0].equals("run")) return null;
        if (args.length == 1) {
            String env = System.getenv("QUORUMD_CONFIG");
            return Path.of(env != null ? env : Config.DEFAULT_FILE);
        }
        String value = null;
        if (args.length == 3 && (args[1].equals("-c") || args[1].equals("--config"))) value = args[2];
        else if (args.length == 2 && args[1].startsWith("--config=")) value = args[1].substring("--config=".length());
        return value == null || value.isEmpty() || value.startsWith("-") ? null : Path.of(value);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(out);
        return USAGE;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Cli.class.getPackage().getImplementationVersion();
            return new String[] {"quorumd " + (v != null ? v : "(development build)"),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }

    /** Loads the config, or prints the error and returns null (the caller exits 2). */
    static Config load(Path file, PrintWriter err) {
        LoadedConfig l = loadWithPositions(file, err);
        return l == null ? null : l.config();
    }

    static LoadedConfig loadWithPositions(Path file, PrintWriter err) {
        try {
            return ConfigLoader.loadWithPositions(file);
        } catch (ConfigException e) {
            err.println(e.getMessage());
            err.flush();
            return null;
        }
    }

    /** Loads and checks what would fail at run time; prints every problem and returns null on any. */
    static Config loadChecked(Path file, PrintWriter err) {
        LoadedConfig l = loadWithPositions(file, err);
        if (l == null) return null;
        List<String> problems = ConfigChecker.check(l);
        if (!problems.isEmpty()) {
            problems.forEach(err::println);
            err.flush();
            return null;
        }
        return l.config();
    }

    @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the agent in the foreground (what the systemd unit runs).")
    static final class Run implements Callable<Integer> {
        @ParentCommand
        Cli cli;
        @CommandLine.Mixin
        ConfigMixin cfg;

        @Override
        public Integer call() throws Exception {
            return runAgent(cfg.file, cli.err);
        }
    }

    /** {@code quorumd run}: loads and checks the config, starts the agent, returns when it has exited. */
    static int runAgent(Path configFile, PrintWriter err) {
        Config config = loadChecked(configFile, err);
        if (config == null) return USAGE;
        Logging.configure(config.logLevel());
        long entered = executeEnteredMillis;
        if (entered != 0) {
            // the JVM's own start-up ends here: the bench's fail-over breakdown parses this line
            org.slf4j.LoggerFactory.getLogger(Cli.class).info("main() entered at epoch ms {}; config loaded and checked {} ms later",
                    entered, System.currentTimeMillis() - entered);
        }
        Agent agent;
        try {
            agent = AgentFactory.start(config);
        } catch (AgentFactory.StartupException e) {
            String m = e.getMessage();
            err.println(m.startsWith("quorumd: ") ? m : "quorumd: " + m);
            err.flush();
            return e.needsOperator() ? USAGE : FAILURE;
        }
        long stopBudgetNanos = AgentFactory.shutdownBudgetNanos(config);
        Thread hook = new Thread(() -> {
            org.slf4j.LoggerFactory.getLogger(Cli.class).info("shutdown requested (SIGTERM, SIGINT or the JVM exiting)");
            agent.requestShutdown();
            try {
                agent.awaitExit(stopBudgetNanos);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "quorumd-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        return agent.run() == 0 ? OK : FAILURE;
    }

    @Command(name = "check", mixinStandardHelpOptions = true, description = "Validate the config and print the resolved settings; exit 0 or 2.")
    static final class Check implements Callable<Integer> {
        @ParentCommand
        Cli cli;
        @CommandLine.Mixin
        ConfigMixin cfg;

        @Override
        public Integer call() {
            LoadedConfig l = loadWithPositions(cfg.file, cli.err);
            if (l == null) return USAGE;
            // as root on the packaged config, judge as the user the unit runs the agent as, and
            // create nothing (a root-owned state_dir would lock that user out). The two properties
            // let the tests point this at a file and a user of their own.
            ConfigChecker.Judge judge = ConfigChecker.Judge.forCheck(cfg.file, callerUid(),
                    Path.of(System.getProperty("quorumd.check.packagedConfig", Config.DEFAULT_FILE)),
                    System.getProperty("quorumd.check.unitUser", ConfigChecker.UNIT_USER), Path.of("/etc/passwd"));
            List<String> problems = new java.util.ArrayList<>();
            for (io.quorumd.config.ConfigProblem p : ConfigChecker.problems(l, io.quorumd.config.BindResolver.ROUTE_TABLE, judge))
                problems.add(p.toString());
            for (String m : io.quorumd.command.Programs.missing()) problems.add("quorumd: " + m);
            if (judge.user() != null) {
                cli.err.println("quorumd: state_dir judged as user " + judge.user() + " (uid " + judge.uid()
                        + "), the user the unit runs the agent as; nothing was created");
            }
            if (!problems.isEmpty()) {
                problems.forEach(cli.err::println);
                cli.err.flush();
                return USAGE;
            }
            Config config = l.config();
            ResolvedBind bind = null;
            try {
                bind = BindResolver.resolve(config);
            } catch (UnresolvedBindException e) {
                // the checker already reported it
            }
            if (config.trustedMode()) {
                cli.err.println("quorumd: warning: " + Config.TRUSTED_MODE_WARNING);
                cli.err.flush();
            }
            cli.out.print(ConfigPrinter.toYaml(config, bind));
            return OK;
        }
    }

    /** The effective uid of this process (the owner of /proc/self); -1 if unknown. */
    static int callerUid() {
        try {
            return (Integer) java.nio.file.Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (Exception e) {
            return -1;
        }
    }

    @Command(name = "keygen", mixinStandardHelpOptions = true,
            description = {"Write a CURVE key pair: PATH (the public key) and PATH_secret (both keys, mode 0600),"
                    + " in ZeroMQ's certificate format; print the public key for the peer list.",
                    "Never overwrites: exits 2 when either file exists."})
    static final class Keygen implements Callable<Integer> {
        @ParentCommand
        Cli cli;
        @Option(names = "--out", paramLabel = "PATH", required = true,
                description = "the public certificate; the key pair goes to PATH_secret (security.curve.key)")
        Path out;

        @Override
        public Integer call() {
            Path secret;
            try {
                secret = KeyFile.secretPath(out);
            } catch (IllegalArgumentException e) {
                cli.err.println("quorumd keygen: --out " + e.getMessage() + "; give the public key's file name");
                return USAGE;
            }
            CurveKeys keys = CurveKeys.generate();
            try {
                KeyFile.write(out, keys);
            } catch (FileAlreadyExistsException e) {
                cli.err.println("quorumd keygen: " + e.getFile() + " already exists; refusing to overwrite a key"
                        + " (move it away first, or choose another --out)");
                return USAGE;
            } catch (IOException e) {
                cli.err.println("quorumd keygen: cannot write " + writeFailure(e, out));
                return FAILURE;
            }
            cli.err.println("quorumd keygen: wrote " + out + " (public key) and " + secret
                    + " (key pair, mode 0600: this node's security.curve.key)");
            cli.out.println(keys.publicKeyZ85());
            return OK;
        }
    }

    /** {@code FILE: reason} of a failed write, worded as the OS would. */
    static String writeFailure(IOException e, Path fallback) {
        if (!(e instanceof FileSystemException f) || f.getFile() == null) return fallback + ": " + e.getMessage();
        String reason = f instanceof NoSuchFileException ? "no such file or directory"
                : f instanceof AccessDeniedException ? "permission denied"
                : f.getReason() != null ? f.getReason() : f.getClass().getSimpleName();
        return f.getFile() + ": " + reason;
    }

    /** {@code -c FILE}, shared by the commands that read the config. */
    static final class ConfigMixin {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE",
                defaultValue = "${env:QUORUMD_CONFIG:-" + Config.DEFAULT_FILE + "}",
                description = "config file (default: ${DEFAULT-VALUE})")
        Path file;
    }

    /** Asks the local agent over the control socket named in the config. */
    static int ask(Cli cli, Path configFile, java.util.Map<String, Object> request) {
        return ask(cli, configFile, request, java.util.function.UnaryOperator.identity());
    }

    /** As {@link #ask(Cli, Path, java.util.Map)}, printing {@code format} of a successful answer's body. */
    static int ask(Cli cli, Path configFile, java.util.Map<String, Object> request, java.util.function.UnaryOperator<String> format) {
        Config config = load(configFile, cli.err);
        if (config == null) return USAGE;
        Reply r = ControlClient.request(config.controlSocket(), request, CONTROL_TIMEOUT);
        if (r.exitCode() == OK) r = new Reply(OK, format.apply(r.body()));
        PrintWriter w = r.exitCode() == OK ? cli.out : cli.err;
        w.print(r.body());
        if (!r.body().endsWith("\n")) w.println();
        return r.exitCode();
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Ask the local agent: node, role, term, master, peers, command.")
    static final class StatusCmd implements Callable<Integer> {
        @ParentCommand
        Cli cli;
        @CommandLine.Mixin
        ConfigMixin cfg;
        @Option(names = "--json", description = "one JSON object instead of a table")
        boolean json;

        @Override
        public Integer call() {
            return ask(cli, cfg.file, java.util.Map.of("op", "status"),
                    body -> json ? body : io.quorumd.control.Status.fromJson(body).toTable());
        }
    }

    @Command(name = "leader", mixinStandardHelpOptions = true, description = "Print the current master's id (exit 3 when none is known).")
    static final class Leader implements Callable<Integer> {
        @ParentCommand
        Cli cli;
        @CommandLine.Mixin
        ConfigMixin cfg;

        @Override
        public Integer call() {
            return ask(cli, cfg.file, java.util.Map.of("op", "leader"));
        }
    }

    @Command(name = "step-down", mixinStandardHelpOptions = true, description = "Graceful hand-over: stop the command, pass mastership on.")
    static final class StepDown implements Callable<Integer> {
        @ParentCommand
        Cli cli;
        @CommandLine.Mixin
        ConfigMixin cfg;
        @Option(names = "--to", paramLabel = "NODE", description = "the preferred next master")
        String to;

        @Override
        public Integer call() {
            return ask(cli, cfg.file, to == null ? java.util.Map.of("op", "step-down") : java.util.Map.of("op", "step-down", "to", to));
        }
    }

    @Command(name = "demo", mixinStandardHelpOptions = true, description = "Start a 3-node cluster on 127.0.0.1 with a demo command and show fail-over live.")
    static final class DemoCmd implements Callable<Integer> {
        @ParentCommand
        Cli cli;
        @Option(names = "--auto", description = "inject faults on a timer; no keyboard needed")
        boolean auto;
        @Option(names = "--duration", paramLabel = "D", description = "end after D (e.g. 60s, 2m)")
        String duration;

        @Override
        public Integer call() throws Exception {
            Duration d = null;
            if (duration != null) {
                try {
                    d = io.quorumd.config.Durations.parse(duration);
                } catch (IllegalArgumentException e) {
                    cli.err.println("quorumd demo: --duration: " + e.getMessage());
                    return USAGE;
                }
            }
            return new Demo(cli.out, auto, d).run();
        }
    }
}
