package io.quorumd.config;

import static io.quorumd.config.ConfigFiles.MINIMAL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code check} refuses on this host: real files, modes and directories. */
class ConfigCheckerTest {
    @TempDir
    Path dir;

    private Path routes;
    private Path run;
    private Path hook;
    private Path state;

    @BeforeEach
    void files() throws IOException {
        routes = BindResolverTest.routes(dir, BindResolverTest.defaultVia("lo", "0100007F", 0));
        run = executable("run.sh");
        hook = executable("hook.sh");
        state = dir.resolve("state/deeper");
    }

    private Path executable(String name) throws IOException {
        Path f = Files.writeString(dir.resolve(name), "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        return f;
    }

    private Path plain(String name) throws IOException {
        Path f = Files.writeString(dir.resolve(name), "not a program\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        return f;
    }

    /**
     * MINIMAL, then line 10 {@code command:}, 11 {@code exec: [EXEC, --flag]}, 12 {@code hooks:},
     * 13 {@code on_master: HOOK}, 14 {@code state_dir: STATE}, then {@code extra}.
     */
    private List<ConfigProblem> check(Object exec, Object onMaster, Object stateDir, String extra) throws Exception {
        Path f = ConfigFiles.write(dir, MINIMAL + "command:\n  exec: [" + exec + ", --flag]\nhooks:\n  on_master: "
                + onMaster + "\nstate_dir: " + stateDir + "\n" + extra);
        return ConfigChecker.problems(ConfigLoader.loadWithPositions(f), routes);
    }

    private String at(int line, int column, String rest) {
        return dir.resolve("quorumd.yaml") + ":" + line + ":" + column + ": " + rest;
    }

    private static List<String> lines(List<ConfigProblem> problems) {
        return problems.stream().map(ConfigProblem::toString).toList();
    }

    @Test
    void aGoodConfigPassesAndItsStateDirIsCreated() throws Exception {
        assertEquals(List.of(), check(run, hook, state, ""));
        assertTrue(Files.isDirectory(state));
        try (Stream<Path> left = Files.list(state)) {
            assertEquals(0, left.count(), "the probe file is deleted");
        }
    }

    @Test
    void aProgramThatIsNotExecutable() throws Exception {
        Path p = plain("plain.sh");
        assertEquals(List.of(at(11, 10, "command.exec[0]: is not executable; chmod +x it (got " + p + ")")),
                lines(check(p, hook, state, "")));
    }

    @Test
    void aProgramThatDoesNotExistOrIsADirectory() throws Exception {
        Path missing = dir.resolve("missing");
        assertEquals(List.of(at(11, 10, "command.exec[0]: does not exist (got " + missing + ")")),
                lines(check(missing, hook, state, "")));
        assertEquals(List.of(at(11, 10, "command.exec[0]: is a directory, not an executable file (got " + dir + ")")),
                lines(check(dir, hook, state, "")));
    }

    @Test
    void aBareNameIsLookedUpInPath() throws Exception {
        Path bin = Files.createDirectory(dir.resolve("bin"));
        String withPath = "  env: {PATH: " + bin + "}\n";
        Path f = ConfigFiles.write(dir, MINIMAL + "command:\n  exec: [tool]\n" + withPath + "state_dir: " + state + "\n");
        assertEquals(List.of(at(11, 10, "command.exec[0]: not found in PATH (" + bin
                + "); write the absolute path or install it (got tool)")),
                lines(ConfigChecker.problems(ConfigLoader.loadWithPositions(f), routes)));
        Path tool = Files.writeString(bin.resolve("tool"), "#!/bin/sh\n");
        assertEquals(List.of(at(11, 10, "command.exec[0]: " + tool + " is not executable; chmod +x it (got tool)")),
                lines(ConfigChecker.problems(ConfigLoader.loadWithPositions(f), routes)));
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertEquals(List.of(), ConfigChecker.problems(ConfigLoader.loadWithPositions(f), routes));
        // without command.env PATH, the agent's own PATH: sh is on every host
        assertEquals(List.of(), check("sh", hook, state, ""));
    }

    @Test
    void theShellFormIsNotLookedUp() throws Exception {
        Path f = ConfigFiles.write(dir, MINIMAL + "command:\n  exec: \"no-such-program --x\"\nstate_dir: " + state + "\n");
        assertEquals(List.of(), ConfigChecker.problems(ConfigLoader.loadWithPositions(f), routes));
    }

    @Test
    void everyHookMustBeExecutable() throws Exception {
        Path p = plain("fence.sh");
        Path missing = dir.resolve("follower.sh");
        Path f = ConfigFiles.write(dir, MINIMAL + "command:\n  exec: [" + run + "]\nhooks:\n  on_master: " + p
                + "\n  on_follower: " + missing + "\n  fence: " + p + "\nstate_dir: " + state + "\n");
        assertEquals(List.of(
                        at(13, 14, "hooks.on_master: is not executable; chmod +x it (got " + p + ")"),
                        at(14, 16, "hooks.on_follower: does not exist (got " + missing + ")"),
                        at(15, 10, "hooks.fence: is not executable; chmod +x it (got " + p + ")")),
                lines(ConfigChecker.problems(ConfigLoader.loadWithPositions(f), routes)));
    }

    @Test
    void aStateDirThatCannotBeCreated() throws Exception {
        Path file = plain("plain");
        Path under = file.resolve("state");
        assertEquals(List.of(at(14, 12, "state_dir: cannot be created: " + file + " is not a directory (got " + under
                + ")")), lines(check(run, hook, under, "")));
        assertEquals(List.of(at(14, 12, "state_dir: is not a directory (got " + file + ")")),
                lines(check(run, hook, file, "")));
    }

    @Test
    void aStateDirThatCannotBeWritten() throws Exception {
        // even root cannot create files in /proc
        List<String> problems = lines(check(run, hook, "/proc", ""));
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith(at(14, 12, "state_dir: cannot be written: ")), problems.get(0));
        assertTrue(problems.get(0).endsWith("; the agent keeps its term and vote there (got /proc)"), problems.get(0));
    }

    @Test
    void workdirAndControlSocketDirectories() throws Exception {
        Path file = plain("plain");
        Path missing = dir.resolve("nowhere");
        Path f = ConfigFiles.write(dir, MINIMAL + "command:\n  exec: [" + run + "]\n  workdir: " + missing
                + "\nstate_dir: " + state + "\ncontrol_socket: " + file.resolve("q.sock") + "\n");
        assertEquals(List.of(
                        at(12, 12, "command.workdir: does not exist; create it or remove workdir (got " + missing + ")"),
                        at(14, 17, "control_socket: its directory cannot be created: " + file
                                + " is not a directory (got " + file.resolve("q.sock") + ")")),
                lines(ConfigChecker.problems(ConfigLoader.loadWithPositions(f), routes)));
    }

    @Test
    void bindMustResolveOnThisHost() throws Exception {
        Path noDefault = dir.resolve("empty-routes");
        Files.writeString(noDefault, BindResolverTest.HEADER);
        Path f = ConfigFiles.write(dir, MINIMAL + "state_dir: " + state + "\n");
        assertEquals(List.of(at(1, 1, "bind: no default route in " + noDefault + ", so auto has no address to pick;"
                        + " set bind to this host's IP address (got auto)")),
                lines(ConfigChecker.problems(ConfigLoader.loadWithPositions(f), noDefault)));
        InetAddress foreign = InetAddress.getByName("198.18.255.254");
        assumeTrue(NetworkInterface.getByInetAddress(foreign) == null, "198.18.255.254 is on this host");
        f = ConfigFiles.write(dir, MINIMAL + "bind: 198.18.255.254\nstate_dir: " + state + "\n");
        // the kernel's reason (EADDRNOTAVAIL), as the JDK words it
        assertEquals(List.of(at(10, 7, "bind: this host cannot bind 198.18.255.254: Cannot assign requested address;"
                        + " set bind to one of this host's addresses, or auto (got 198.18.255.254)")),
                lines(ConfigChecker.problems(ConfigLoader.loadWithPositions(f), routes)));
    }

    /** SPEC: any address this host can bind, decided by binding it, not by the interface list. */
    @Test
    void bindAcceptsWhatThisHostCanBind() throws Exception {
        // 127.0.0.11 is on no interface's list, but loopback's 127.0.0.0/8 binds it
        assertEquals(null, NetworkInterface.getByInetAddress(InetAddress.getByName("127.0.0.11")));
        for (String address : List.of("127.0.0.11", "127.0.0.1", "\"::1\"", "0.0.0.0")) {
            if (address.contains("::")) assumeTrue(NetworkInterface.getByInetAddress(InetAddress.getByName("::1")) != null,
                    "no IPv6 loopback on this host");
            Path f = ConfigFiles.write(dir, MINIMAL + "bind: " + address + "\nstate_dir: " + state + "\n");
            assertEquals(List.of(), lines(ConfigChecker.problems(ConfigLoader.loadWithPositions(f), routes)), address);
        }
    }

    @Test
    void aConfigBuiltInCodeHasNoLines() throws Exception {
        Path p = plain("plain.sh");
        Config c = new Config(null, "c", "a", "127.0.0.1", List.of(new PeerConfig("a", "127.0.0.1", 40001, 100, null)),
                null, TimingConfig.defaults(), CommandConfig.of(List.of(p.toString())), null, state,
                Config.DEFAULT_CONTROL_SOCKET, "info");
        assertEquals(List.of("command.exec[0]: is not executable; chmod +x it (got " + p + ")"),
                ConfigChecker.check(c));
        assertEquals(List.of("/etc/q.yaml: command.exec[0]: is not executable; chmod +x it (got " + p + ")"),
                ConfigChecker.check(c.withSource(Path.of("/etc/q.yaml"))));
    }

    @Test
    void checkGivesTheLinesAnOperatorReads() throws Exception {
        Path p = plain("plain.sh");
        Path f = ConfigFiles.write(dir, MINIMAL + "bind: 127.0.0.1\ncommand:\n  exec: [" + p + "]\nstate_dir: " + state
                + "\n");
        assertEquals(List.of(at(12, 10, "command.exec[0]: is not executable; chmod +x it (got " + p + ")")),
                ConfigChecker.check(ConfigLoader.loadWithPositions(f)));
    }
}
