package io.quorumd.config;

import static io.quorumd.config.ConfigFiles.MINIMAL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code check} says on the paths its own tests had left out (issue 16's PIT run): the
 * search path's order, for whom {@code state_dir} is judged (as the caller, and as another user
 * through {@code setpriv}), devices and directories where files are expected.
 */
class CheckerEdgesTest {
    @TempDir
    Path dir;

    private Path routes;
    private Path state;

    @BeforeEach
    void files() throws IOException {
        routes = BindResolverTest.routes(dir, BindResolverTest.defaultVia("lo", "0100007F", 0));
        state = dir.resolve("state");
    }

    private List<String> check(String extra) throws Exception {
        Path f = ConfigFiles.write(dir, MINIMAL + "state_dir: " + state + "\n" + extra);
        return ConfigChecker.problems(ConfigLoader.loadWithPositions(f), routes).stream()
                .map(ConfigProblem::toString).toList();
    }

    private String at(int line, int column, String rest) {
        return dir.resolve("quorumd.yaml") + ":" + line + ":" + column + ": " + rest;
    }

    private Path file(Path d, String name, String mode) throws IOException {
        Files.createDirectories(d);
        Path f = Files.writeString(d.resolve(name), "#!/bin/sh\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void aRunnableProgramLaterInThePathWinsOverOneThatIsNot() throws IOException {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        file(a, "prog", "rw-r--r--");
        Path runnable = file(b, "prog", "rwxr-xr-x");
        assertEquals(runnable, ConfigChecker.lookUp("prog", a + ":" + b));
        // found, not runnable: named so that check can say why
        assertEquals(a.resolve("prog"), ConfigChecker.lookUp("prog", a.toString()));
        assertNull(ConfigChecker.lookUp("prog", dir.resolve("c").toString()));
    }

    @Test
    void theUnitsUserIsJudgedOnlyForRootCheckingThePackagedFile() throws IOException {
        Path passwd = Files.writeString(dir.resolve("passwd"), String.join("\n",
                "root:x:0:0:root:/root:/bin/bash",
                "short:x:5",
                "letters:x:abc:1::/:/bin/false",
                "four:x:7:8",
                "quorumd:x:998:997::/var/lib/quorumd:/usr/sbin/nologin", ""));
        Path packaged = Path.of("/etc/quorumd/quorumd.yaml");
        assertEquals(new ConfigChecker.Judge("quorumd", 998, 997, false),
                ConfigChecker.Judge.forCheck(Path.of("/etc/quorumd/../quorumd/quorumd.yaml"), 0, packaged, "quorumd", passwd));
        assertEquals(ConfigChecker.Judge.CALLER, ConfigChecker.Judge.forCheck(packaged, 1000, packaged, "quorumd", passwd));
        assertEquals(ConfigChecker.Judge.CALLER,
                ConfigChecker.Judge.forCheck(Path.of("/etc/other.yaml"), 0, packaged, "quorumd", passwd));
        assertEquals(ConfigChecker.Judge.CALLER, ConfigChecker.Judge.forCheck(packaged, 0, packaged, "nobody-here", passwd));
        assertEquals(new ConfigChecker.Judge("four", 7, 8, false),
                ConfigChecker.Judge.forCheck(packaged, 0, packaged, "four", passwd));
        assertNull(ConfigChecker.lookUpUser("short", passwd));
        assertNull(ConfigChecker.lookUpUser("letters", passwd));
        assertNull(ConfigChecker.lookUpUser("quorumd", dir.resolve("no-passwd")));
        assertEquals("this user", ConfigChecker.Judge.CALLER.who());
        assertEquals("user quorumd", new ConfigChecker.Judge("quorumd", 998, 997, false).who());
    }

    @Test
    void theCallersStateDirIsJudgedWithoutCreatingIt() throws IOException {
        Path missing = dir.resolve("x/y");
        assertNull(ConfigChecker.judgeDirectory(missing, ConfigChecker.Judge.CALLER));
        assertEquals(false, Files.exists(dir.resolve("x")));
        assertNull(ConfigChecker.judgeDirectory(dir, ConfigChecker.Judge.CALLER));
        Path plain = file(dir, "plain", "rw-r--r--");
        assertEquals("is not a directory", ConfigChecker.judgeDirectory(plain, ConfigChecker.Judge.CALLER));
        assertEquals("cannot be created: " + plain + " is not a directory",
                ConfigChecker.judgeDirectory(plain.resolve("s"), ConfigChecker.Judge.CALLER));
    }

    @Test
    void anotherUsersStateDirIsJudgedAsThatUser() throws Exception {
        assumeTrue(AsUser.uid() == 0, "setpriv to another user needs root");
        assumeTrue(ConfigChecker.lookUp("setpriv", ConfigChecker.DEFAULT_SEARCH_PATH) != null, "no setpriv");
        // the user must reach the directories: every ancestor searchable by others
        for (Path p = dir; p != null; p = p.getParent()) {
            assumeTrue(Files.isDirectory(p) && PosixFilePermissions.toString(Files.getPosixFilePermissions(p)).charAt(8) != '-'
                    || p.equals(dir), "an ancestor of the temporary directory is closed to others: " + p);
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        ConfigChecker.Judge nobody = new ConfigChecker.Judge("nobody", AsUser.NOBODY, AsUser.NOBODY, false);
        String owner = Files.getOwner(dir).getName() + ":"
                + Files.readAttributes(dir, java.nio.file.attribute.PosixFileAttributes.class).group().getName();
        assertEquals("cannot be written by user nobody: is not writable and searchable by nobody (owner " + owner
                        + ", mode rwxr-xr-x) (nobody is the user the unit runs the agent as); the agent keeps its term"
                        + " and vote there",
                ConfigChecker.judgeDirectory(dir, nobody));
        assertEquals("cannot be created by user nobody: " + dir + " is not writable and searchable by nobody (owner "
                        + owner + ", mode rwxr-xr-x) (nobody is the user the unit runs the agent as)",
                ConfigChecker.judgeDirectory(dir.resolve("s/t"), nobody));
        Path open = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertNull(ConfigChecker.judgeDirectory(open, nobody));
        assertNull(ConfigChecker.judgeDirectory(open.resolve("new"), nobody));
        // the unit's StateDirectory is systemd's to create and hand over, whoever owns it now
        assertNull(ConfigChecker.judgeDirectory(ConfigChecker.UNIT_STATE_DIRECTORY, nobody));
    }

    @Test
    void aDeviceIsNotAHook() throws Exception {
        assertEquals(List.of(at(12, 14, "hooks.on_master: is not a regular file (got /dev/null)")),
                check("hooks:\n  on_master: /dev/null\n"));
    }

    @Test
    void aControlSocketNeedsADirectory() throws Exception {
        assertEquals(List.of(at(11, 17, "control_socket: must be a path in a directory (got /)")),
                check("control_socket: /\n"));
    }

    @Test
    void aStateDirThatTheKernelWillNotCreate() throws Exception {
        // mkdir in /proc fails with ENOENT for root and other users alike
        state = Path.of("/proc/quorumd-check/state");
        List<String> problems = check("");
        assertEquals(1, problems.size(), problems.toString());
        assertEquals(at(10, 12, "state_dir: cannot be created: /proc/quorumd-check: no such file or directory (got "
                + state + ")"), problems.get(0));
    }

    @Test
    void aRequiredWatchdogThatIsADirectory() throws Exception {
        Path d = Files.createDirectory(dir.resolve("watchdog"));
        assertEquals(List.of(at(11, 38, "self_fence.device: is a directory, not a watchdog device (got " + d + ")")),
                check("self_fence: {mode: required, device: " + d + "}\n"));
    }

    @Test
    void aMetricsAddressOfThisHostPasses() throws Exception {
        assertEquals(List.of(), check("metrics: {listen: \"127.0.0.1:9851\"}\n"));
    }

    @Test
    void equalMetricsTakeTheFirstDefaultRouteAndEightFieldsAreALine() throws Exception {
        assertEquals("bind: auto resolved to 127.0.0.1 (lo, default route)", BindResolver.resolve("auto",
                BindResolverTest.routes(dir, BindResolverTest.defaultVia("lo", "0100007F", 5),
                        BindResolverTest.defaultVia("nosuch0", "0100007F", 5))).description());
        assertEquals("bind: auto resolved to 127.0.0.1 (lo, default route)", BindResolver.resolve("auto",
                BindResolverTest.routes(dir, "lo\t00000000\t0100007F\t0003\t0\t0\t0\t00000000")).description());
    }
}
