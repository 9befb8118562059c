package io.quorumd.cli;

import io.quorumd.config.Config;
import io.quorumd.security.CurveKeys;
import io.quorumd.security.KeyFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.zeromq.ZCert;
import org.zeromq.ZConfig;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line in-process: exit statuses and messages as SPEC.md fixes them. */
class CliTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Cli.execute(args, new PrintWriter(o), new PrintWriter(e));
        return new Result(code, o.toString(), e.toString());
    }

    private Path config(String extra) throws Exception {
        Path f = tmp.resolve("q.yaml");
        Files.writeString(f, "cluster: c\nnode: a\nbind: 127.0.0.1\npeers:\n  - {id: a, host: 127.0.0.1, port: 47300}\n"
                + "state_dir: " + tmp.resolve("state") + "\ncontrol_socket: " + tmp.resolve("state/control.sock") + "\n" + extra);
        return f;
    }

    @Test
    void versionAndHelp() {
        Result v = run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("quorumd "), v.out());
        Result h = run("-h");
        assertEquals(0, h.code());
        for (String c : new String[] {"run", "check", "status", "leader", "step-down", "demo", "keygen"}) {
            assertTrue(h.out().contains(c), "help lists " + c + ":\n" + h.out());
        }
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, run("frobnicate").code());
        assertEquals(2, run("status", "--bogus").code());
        assertEquals(2, run().code());
    }

    @Test
    void checkPrintsResolvedSettingsWithDefaults() throws Exception {
        Result r = run("check", "-c", config("").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("election_timeout: 1s"), r.out());
        assertTrue(r.out().contains("heartbeat: 100ms"), r.out());
        assertTrue(r.out().contains("port: 47300"), r.out());
    }

    @Test
    void checkRefusesBadConfigWithLineAndColumn() throws Exception {
        Result r = run("check", "-c", config("timing:\n  heartbeat: 100\n").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().matches("(?s).*q\\.yaml:9:14: timing\\.heartbeat: .*\\(got 100\\).*"), r.err());
    }

    @Test
    void checkRefusesTheShippedPlaceholder() {
        Path shipped = Path.of("..", "etc", "quorumd.yaml");
        Result r = run("check", "-c", shipped.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(":1:1: cluster: required key is missing"), r.err());
    }

    @Test
    void missingConfigFile() {
        Result r = run("check", "-c", tmp.resolve("nope.yaml").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("quorumd: cannot read " + tmp.resolve("nope.yaml")), r.err());
    }

    @Test
    void noAgentExitsThree() throws Exception {
        Path c = config("");
        for (String cmd : new String[] {"status", "leader", "step-down"}) {
            Result r = run(cmd, "-c", c.toString());
            assertEquals(3, r.code(), cmd + ": " + r.err());
            assertTrue(r.err().contains("no agent answers"), r.err());
        }
    }

    /** {@code quorumd ARGS} in a child JVM whose environment has QUORUMD_CONFIG set to {@code config}, or unset (null). */
    private static Result child(String config, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"), "io.quorumd.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (config == null) pb.environment().remove("QUORUMD_CONFIG");
        else pb.environment().put("QUORUMD_CONFIG", config);
        Path out = Files.createTempFile("cli-out", ".txt");
        Path err = Files.createTempFile("cli-err", ".txt");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "quorumd " + String.join(" ", args) + " did not exit");
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    @Test
    void configFromEnvironmentDefault() throws Exception {
        // picocli resolves ${env:QUORUMD_CONFIG:-/etc/quorumd/quorumd.yaml}: run in a child whose
        // environment this test sets, whatever the environment the tests run in
        Result h = child(null, "check", "-h");
        assertEquals(0, h.code(), h.err());
        assertTrue(h.out().contains("/etc/quorumd/quorumd.yaml"), "without QUORUMD_CONFIG the default shows:\n" + h.out());

        Path c = config("");
        Result r = child(c.toString(), "check");
        assertEquals(0, r.code(), "check without -c reads $QUORUMD_CONFIG: " + r.err());
        assertTrue(r.out().contains("port: 47300"), r.out());
        Result hc = child(c.toString(), "check", "-h");
        assertTrue(hc.out().replaceAll("\\s+", "").contains(c.toString()), "the help shows the path from QUORUMD_CONFIG:\n" + hc.out());

        Result missing = child(tmp.resolve("nope.yaml").toString(), "check");
        assertEquals(2, missing.code());
        assertTrue(missing.err().startsWith("quorumd: cannot read " + tmp.resolve("nope.yaml")), missing.err());
        Result flag = child(tmp.resolve("nope.yaml").toString(), "check", "-c", c.toString());
        assertEquals(0, flag.code(), "-c wins over QUORUMD_CONFIG: " + flag.err());
    }

    @Test
    void plainRunIsRecognisedExactlyAndEverythingElseGoesToPicocli() {
        assertEquals(Path.of("/x.yaml"), Cli.plainRun(new String[] {"run", "-c", "/x.yaml"}));
        assertEquals(Path.of("/x.yaml"), Cli.plainRun(new String[] {"run", "--config", "/x.yaml"}));
        assertEquals(Path.of("/x.yaml"), Cli.plainRun(new String[] {"run", "--config=/x.yaml"}));
        String env = System.getenv("QUORUMD_CONFIG");
        assertEquals(Path.of(env != null ? env : "/etc/quorumd/quorumd.yaml"), Cli.plainRun(new String[] {"run"}));
        for (String[] other : new String[][] {{}, {"check"}, {"check", "-c", "/x.yaml"}, {"run", "-h"}, {"run", "--help"},
                {"run", "-V"}, {"run", "--config"}, {"run", "-c", "-h"}, {"run", "--config="}, {"run", "-c", "/x", "more"},
                {"run", "--bogus"}, {"demo"}}) {
            assertEquals(null, Cli.plainRun(other), String.join(" ", other));
        }
    }

    /** A state file the agent cannot use is refused with exit 2 (the unit's RestartPreventExitStatus), not a crash loop. */
    @Test
    void runRefusesAStateFileWithATermBeyondTheLargest() throws Exception {
        Path c = config("");
        Files.createDirectories(tmp.resolve("state"));
        String body = "quorumd-state v1\nterm=" + (1L << 62) + "\nvoted_for=\n";
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.writeString(tmp.resolve("state/state"), body + String.format("crc32=%08x%n", crc.getValue()));
        Result r = run("run", "-c", c.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("quorumd: state file " + tmp.resolve("state/state") + " holds term " + (1L << 62)
                + ", beyond the largest term"), r.err());
        assertTrue(!Files.exists(tmp.resolve("state/control.sock")), "nothing was started");
    }

    /** The fast path for `run` answers bad input exactly as picocli's Run does. */
    @Test
    void runWithoutPicocliFailsLikeRunWithIt() throws Exception {
        Path bad = tmp.resolve("bad.yaml");
        Files.writeString(bad, "cluster: c\nnode: a\npeers: 3\n");
        for (String[] args : new String[][] {{"run", "-c", tmp.resolve("nope.yaml").toString()},
                {"run", "--config=" + bad}, {"run", "--config", tmp.toString()}}) {
            assertTrue(Cli.plainRun(args) != null);
            Result fast = run(args);
            StringWriter o = new StringWriter();
            StringWriter e = new StringWriter();
            int code = Cli.withPicocli(args, new PrintWriter(o), new PrintWriter(e));
            assertEquals(new Result(code, o.toString(), e.toString()), fast, String.join(" ", args));
            assertEquals(2, fast.code(), fast.err());
            assertTrue(!fast.err().isEmpty());
        }
    }

    private static String mode(Path f) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(f));
    }

    @Test
    void keygenWritesBothFilesAndPrintsThePublicKey() throws Exception {
        Path out = tmp.resolve("node.key");
        Result r = run("keygen", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Path secret = tmp.resolve("node.key_secret");
        assertEquals("rw-------", mode(secret));
        assertEquals("rw-r--r--", mode(out));
        String printed = r.out().strip();
        assertTrue(CurveKeys.isZ85Key(printed), r.out());
        assertEquals(printed + "\n", r.out(), "stdout is the public key alone, for the peer list");
        // JeroMQ's own reader: the printed key is the file's, and the secret file's pair is one
        ZConfig pub = ZConfig.load(out.toString());
        ZConfig sec = ZConfig.load(secret.toString());
        assertEquals(printed, pub.getValue("curve/public-key"));
        assertEquals(printed, sec.getValue("curve/public-key"));
        ZCert cert = new ZCert(sec.getValue("curve/public-key"), sec.getValue("curve/secret-key"));
        assertArrayEquals(KeyFile.readSecret(secret).secretKey(), cert.getSecretKey());
        assertFalse((r.out() + r.err()).contains(sec.getValue("curve/secret-key")), "the secret is never printed");
        assertTrue(r.err().contains(secret.toString()), r.err());
    }

    @Test
    void keygenNeverOverwrites() throws Exception {
        Path out = tmp.resolve("node.key");
        assertEquals(0, run("keygen", "--out", out.toString()).code());
        byte[] pub = Files.readAllBytes(out);
        byte[] secret = Files.readAllBytes(tmp.resolve("node.key_secret"));
        Result again = run("keygen", "--out", out.toString());
        assertEquals(2, again.code());
        assertEquals("", again.out());
        assertEquals("quorumd keygen: " + out + " already exists; refusing to overwrite a key (move it away first, or"
                + " choose another --out)\n", again.err());
        assertArrayEquals(pub, Files.readAllBytes(out));
        assertArrayEquals(secret, Files.readAllBytes(tmp.resolve("node.key_secret")));

        // only PATH_secret there: refused too, and PATH is not written
        Files.move(out, tmp.resolve("moved"));
        Result half = run("keygen", "--out", out.toString());
        assertEquals(2, half.code());
        assertTrue(half.err().contains(tmp.resolve("node.key_secret") + " already exists"), half.err());
        assertFalse(Files.exists(out));

        assertEquals(2, run("keygen").code(), "--out is required");
        assertEquals(new Result(2, "", "quorumd keygen: --out / names no file; give the public key's file name\n"),
                run("keygen", "--out", "/"));
        Result noDir = run("keygen", "--out", tmp.resolve("no/such/dir/k").toString());
        assertEquals(1, noDir.code());
        assertEquals("quorumd keygen: cannot write " + tmp.resolve("no/such/dir/k_secret") + ": no such file or"
                + " directory\n", noDir.err());
    }

    /** A real process under umask 000: the modes are set when the files are created, not left to the umask. */
    @Test
    void keygenModesDoNotDependOnTheUmask() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path out = tmp.resolve("u.key");
        Process p = new ProcessBuilder("sh", "-c", "umask 000 && exec \"$0\" -cp \"$1\" io.quorumd.Main keygen --out \"$2\"",
                java, System.getProperty("java.class.path"), out.toString())
                .redirectError(tmp.resolve("keygen.err").toFile()).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("keygen.err")));
        assertEquals("rw-------", mode(tmp.resolve("u.key_secret")));
        assertEquals("rw-r--r--", mode(out));
        assertEquals(KeyFile.readSecret(tmp.resolve("u.key_secret")).publicKeyZ85() + "\n", stdout);
    }

    @Test
    void checkHidesEnvValuesAndWarnsOfTrustedMode() throws Exception {
        Result r = run("check", "-c", config("command:\n  exec: [/bin/true]\n  env: {API_TOKEN: hunter2-s3cr3t,"
                + " MODE: fast}\n").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\n  env: {API_TOKEN: <hidden>, MODE: <hidden>}\n"), r.out());
        assertFalse(r.out().contains("hunter2") || r.err().contains("hunter2"), r.out() + r.err());
        assertEquals("quorumd: warning: " + Config.TRUSTED_MODE_WARNING + "\n", r.err());
        assertTrue(r.err().contains("trusted mode: any process on a peer's host can speak for that peer; use CURVE"
                + " (quorumd keygen)"), r.err());
    }

    @Test
    void checkWithCurveShowsNoSecretAndNoWarning() throws Exception {
        Path key = tmp.resolve("a.key");
        String pub = run("keygen", "--out", key.toString()).out().strip();
        String secret = ZConfig.load(tmp.resolve("a.key_secret").toString()).getValue("curve/secret-key");
        Path f = tmp.resolve("q.yaml");
        Files.writeString(f, "cluster: c\nnode: a\nbind: 127.0.0.1\nsecurity: {curve: {key: " + tmp.resolve("a.key_secret")
                + "}}\npeers:\n  - {id: a, host: 127.0.0.1, port: 47300, public_key: \"" + pub + "\"}\n"
                + "state_dir: " + tmp.resolve("state") + "\ncontrol_socket: " + tmp.resolve("state/control.sock") + "\n");
        Result r = run("check", "-c", f.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().contains("    key: " + tmp.resolve("a.key_secret") + "\n"), r.out());
        assertTrue(r.out().contains("public_key: \"" + pub + "\""), r.out());
        assertFalse(r.out().contains(secret), r.out());

        // the key file readable by others: exit 2, a line with its position, still no secret
        Files.setPosixFilePermissions(tmp.resolve("a.key_secret"), PosixFilePermissions.fromString("rw-r--r--"));
        Result bad = run("check", "-c", f.toString());
        assertEquals(2, bad.code());
        assertEquals("", bad.out());
        assertTrue(bad.err().startsWith(f + ":4:25: security.curve.key: is readable by group or others (mode 0644)"),
                bad.err());
        assertFalse(bad.err().contains(secret), bad.err());
        // run refuses it the same way, before starting anything
        Result run = run("run", "-c", f.toString());
        assertEquals(new Result(2, "", bad.err()), run);
        assertFalse(Files.exists(tmp.resolve("state/control.sock")), "nothing was started");
    }
}
