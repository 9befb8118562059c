package io.quorumd.cli;

import io.quorumd.config.Config;
import io.quorumd.control.ControlClient;
import io.quorumd.control.Json;
import io.quorumd.control.JsonException;
import io.quorumd.control.Reply;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code quorumd kv}: the replicated key-value store, through the local agent's control socket
 * (the {@code kv.*} ops of the README). Exit statuses: 0 ok, 1 outcome unknown or another failure,
 * 2 usage or a limit, 3 agent unreachable / no master / no majority, 4 not found / compare failed /
 * fenced.
 */
@Command(name = "kv", mixinStandardHelpOptions = true,
        description = "The replicated key-value store: linearizable reads and writes through the master.",
        subcommands = {KvCmd.Get.class, KvCmd.Put.class, KvCmd.Delete.class, KvCmd.ListCmd.class, KvCmd.Watch.class},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:ok", "1:outcome unknown (the master was lost mid-write), or another failure",
                "2:usage error, or a limit refused the write", "3:agent not reachable / no master / no majority",
                "4:not found, compare failed (--rev) or fenced (--term)"})
final class KvCmd implements Callable<Integer> {
    static final int NOT_FOUND = 4;

    @ParentCommand
    Cli cli;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(cli.out);
        return Cli.USAGE;
    }

    /** How long to wait for an answer: the agent answers within about an election timeout (or two, forwarded). */
    static Duration timeout(Config c) {
        return Duration.ofSeconds(5).plus(c.timing().electionTimeout().multipliedBy(3));
    }

    /** Sends one kv op; hands a successful answer's JSON to {@code onOk}, prints an error on stderr. */
    static int ask(Cli cli, java.nio.file.Path file, Map<String, Object> request, java.util.function.ToIntFunction<String> onOk) {
        Config config = Cli.load(file, cli.err);
        if (config == null) return Cli.USAGE;
        Reply r = ControlClient.request(config.controlSocket(), request, timeout(config));
        if (r.exitCode() != Cli.OK) {
            cli.err.print(r.body());
            if (!r.body().endsWith("\n")) cli.err.println();
            return r.exitCode();
        }
        return onOk.applyAsInt(r.body());
    }

    static Map<?, ?> object(String json) {
        try {
            return (Map<?, ?>) Json.parse(json.strip());
        } catch (JsonException | ClassCastException e) {
            throw new IllegalStateException("unexpected answer from the agent: " + json.strip());
        }
    }

    /** Adds {@code --rev} and {@code --term} (default: $QUORUMD_TERM when set); a usage error as text, or null. */
    static String conditions(Map<String, Object> req, Long rev, Long term) {
        if (rev != null) {
            if (rev < 0) return "quorumd: --rev must be a revision >= 0 (0: create only)";
            req.put("rev", rev);
        }
        if (term == null) {
            String env = System.getenv("QUORUMD_TERM");
            if (env != null && !env.isEmpty()) {
                try {
                    term = Long.parseLong(env.trim());
                } catch (NumberFormatException e) {
                    return "quorumd: $QUORUMD_TERM is not a term (got " + env + "); pass --term T";
                }
            }
        }
        if (term != null) {
            if (term < 0) return "quorumd: --term must be >= 0";
            req.put("term", term);
        }
        return null;
    }

    private static int usage(Cli cli, String message) {
        cli.err.println(message);
        return Cli.USAGE;
    }

    @Command(name = "get", mixinStandardHelpOptions = true,
            description = "Print KEY's value (the bytes as stored; exit 4 when the key does not exist).")
    static final class Get implements Callable<Integer> {
        @ParentCommand
        KvCmd kv;
        @CommandLine.Mixin
        Cli.ConfigMixin cfg;
        @Parameters(index = "0", paramLabel = "KEY")
        String key;
        @Option(names = "--stale", description = "read this node's copy instead of asking the master (may be behind)")
        boolean stale;
        @Option(names = "--json", description = "print {key, value or value_base64, create_rev, mod_rev, rev}")
        boolean json;

        @Override
        public Integer call() {
            Map<String, Object> req = new LinkedHashMap<>();
            req.put("op", "kv.get");
            req.put("key", key);
            if (stale) req.put("stale", true);
            Cli cli = kv.cli;
            return ask(cli, cfg.file, req, body -> {
                if (json) {
                    cli.out.println(body.strip());
                    return Cli.OK;
                }
                Map<?, ?> o = object(body);
                if (o.get("value") instanceof String text) {
                    cli.out.print(text);
                    cli.out.flush();
                } else {
                    byte[] b = Base64.getDecoder().decode(String.valueOf(o.get("value_base64")));
                    cli.out.flush();
                    PrintStream raw = System.out;
                    raw.write(b, 0, b.length);
                    raw.flush();
                }
                return Cli.OK;
            });
        }
    }

    @Command(name = "put", mixinStandardHelpOptions = true,
            description = "Write KEY (VALUE, or - for the bytes of stdin); print the new revision.")
    static final class Put implements Callable<Integer> {
        @ParentCommand
        KvCmd kv;
        @CommandLine.Mixin
        Cli.ConfigMixin cfg;
        @Parameters(index = "0", paramLabel = "KEY")
        String key;
        @Parameters(index = "1", paramLabel = "VALUE|-")
        String value;
        @Option(names = "--rev", paramLabel = "N", description = "only if KEY's modify revision is N (0: only if KEY does not exist)")
        Long rev;
        @Option(names = "--term", paramLabel = "T",
                description = "only if T is the current master's term (default: $QUORUMD_TERM when set)")
        Long term;

        @Override
        public Integer call() throws IOException {
            Cli cli = kv.cli;
            byte[] bytes;
            if (value.equals("-")) {
                InputStream in = System.in;
                bytes = in.readNBytes(io.quorumd.kv.KvLimits.MAX_VALUE_BYTES + 1);
            } else {
                bytes = value.getBytes(StandardCharsets.UTF_8);
            }
            if (bytes.length > io.quorumd.kv.KvLimits.MAX_VALUE_BYTES) {
                return usage(cli, "quorumd: the value is more than " + io.quorumd.kv.KvLimits.MAX_VALUE_BYTES
                        + " bytes; the limit is 32 KiB");
            }
            Map<String, Object> req = new LinkedHashMap<>();
            req.put("op", "kv.put");
            req.put("key", key);
            req.put("value_base64", Base64.getEncoder().encodeToString(bytes));
            String bad = conditions(req, rev, term);
            if (bad != null) return usage(cli, bad);
            return ask(cli, cfg.file, req, body -> {
                cli.out.println(object(body).get("rev"));
                return Cli.OK;
            });
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Delete KEY (exit 4 when it does not exist); print the new revision.")
    static final class Delete implements Callable<Integer> {
        @ParentCommand
        KvCmd kv;
        @CommandLine.Mixin
        Cli.ConfigMixin cfg;
        @Parameters(index = "0", paramLabel = "KEY")
        String key;
        @Option(names = "--rev", paramLabel = "N", description = "only if KEY's modify revision is N")
        Long rev;
        @Option(names = "--term", paramLabel = "T",
                description = "only if T is the current master's term (default: $QUORUMD_TERM when set)")
        Long term;

        @Override
        public Integer call() {
            Cli cli = kv.cli;
            Map<String, Object> req = new LinkedHashMap<>();
            req.put("op", "kv.delete");
            req.put("key", key);
            String bad = conditions(req, rev, term);
            if (bad != null) return usage(cli, bad);
            return ask(cli, cfg.file, req, body -> {
                cli.out.println(object(body).get("rev"));
                return Cli.OK;
            });
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the keys (starting with PREFIX): one line each, KEY<TAB>CREATE_REV<TAB>MOD_REV.")
    static final class ListCmd implements Callable<Integer> {
        @ParentCommand
        KvCmd kv;
        @CommandLine.Mixin
        Cli.ConfigMixin cfg;
        @Parameters(index = "0", paramLabel = "PREFIX", arity = "0..1")
        String prefix;
        @Option(names = "--stale", description = "read this node's copy instead of asking the master (may be behind)")
        boolean stale;
        @Option(names = "--json", description = "print {rev, keys: [{key, create_rev, mod_rev}]}")
        boolean json;

        @Override
        public Integer call() {
            Cli cli = kv.cli;
            Map<String, Object> req = new LinkedHashMap<>();
            req.put("op", "kv.list");
            if (prefix != null) req.put("prefix", prefix);
            if (stale) req.put("stale", true);
            return ask(cli, cfg.file, req, body -> {
                if (json) {
                    cli.out.println(body.strip());
                    return Cli.OK;
                }
                for (Object k : (List<?>) object(body).get("keys")) {
                    Map<?, ?> m = (Map<?, ?>) k;
                    cli.out.println(m.get("key") + "\t" + m.get("create_rev") + "\t" + m.get("mod_rev"));
                }
                return Cli.OK;
            });
        }
    }

    @Command(name = "watch", mixinStandardHelpOptions = true,
            description = "Print one JSON line per committed change of KEY (or under --prefix) until stopped; resume with --from.",
            footer = {"", "Each line: {\"rev\":R,\"type\":\"put\"|\"delete\",\"key\":K,\"value\"|\"value_base64\":V}."})
    static final class Watch implements Callable<Integer> {
        @ParentCommand
        KvCmd kv;
        @CommandLine.Mixin
        Cli.ConfigMixin cfg;
        @Parameters(index = "0", paramLabel = "KEY", arity = "0..1")
        String key;
        @Option(names = "--prefix", paramLabel = "P", description = "every key starting with P")
        String prefix;
        @Option(names = "--from", paramLabel = "REV", description = "report the changes from revision REV on (exit 4 when compacted)")
        Long from;

        @Override
        public Integer call() {
            Cli cli = kv.cli;
            if ((key == null) == (prefix == null)) return usage(cli, "quorumd: kv watch needs KEY or --prefix P (one of them)");
            if (from != null && from < 1) return usage(cli, "quorumd: --from must be a revision >= 1");
            Config config = Cli.load(cfg.file, cli.err);
            if (config == null) return Cli.USAGE;
            Map<String, Object> req = new LinkedHashMap<>();
            req.put("op", "kv.watch");
            if (key != null) req.put("key", key);
            else req.put("prefix", prefix);
            if (from != null) req.put("from", from);
            Reply r = ControlClient.watch(config.controlSocket(), req, timeout(config), line -> {
                cli.out.println(line);
                cli.out.flush();
            });
            cli.err.print(r.body());
            if (!r.body().endsWith("\n")) cli.err.println();
            return r.exitCode();
        }
    }
}
