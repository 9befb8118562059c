package io.quorumd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quorumd.config.Config;
import io.quorumd.config.ConfigChecker;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code quorumd check} run as root on the packaged config judges state_dir as the user the unit
 * runs the agent as, and creates nothing (issue 11, item 6). Real files, a real user: {@code nobody}
 * stands in for {@code quorumd}, and a file of the test's stands in for /etc/quorumd/quorumd.yaml
 * (the two properties Cli.Check reads for that). Needs root, as CI runs.
 */
class CheckAsUnitUserTest {
    @TempDir
    Path tmp;
    Path configFile;

    record Result(int code, String out, String err) {}

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Cli.callerUid() == 0, "judging as another user needs root (CI runs as root)");
        // nobody must be able to reach what it is asked about: only the modes under test may refuse
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        configFile = tmp.resolve("quorumd.yaml");
        System.setProperty("quorumd.check.packagedConfig", configFile.toString());
        System.setProperty("quorumd.check.unitUser", "nobody");
    }

    @AfterEach
    void tearDown() {
        System.clearProperty("quorumd.check.packagedConfig");
        System.clearProperty("quorumd.check.unitUser");
    }

    private Result check(Path file, Path stateDir) throws Exception {
        Files.writeString(file, "cluster: c\nnode: a\nbind: 127.0.0.1\npeers:\n  - {id: a, host: 127.0.0.1, port: 47300}\n"
                + "state_dir: " + stateDir + "\ncontrol_socket: " + tmp.resolve("run/control.sock") + "\n");
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        int code = Cli.execute(new String[] {"check", "-c", file.toString()}, new PrintWriter(o), new PrintWriter(e));
        return new Result(code, o.toString(), e.toString());
    }

    private static void chown(Path p, String user) throws Exception {
        UserPrincipal u = p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(user);
        Files.setOwner(p, u);
    }

    @Test
    void aRootOwnedStateDirIsRefusedForTheUnitsUser() throws Exception {
        Path state = Files.createDirectory(tmp.resolve("state"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-xr-x"));
        Result r = check(configFile, state);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("state_dir judged as user nobody (uid 65534), the user the unit runs the agent as"), r.err());
        assertTrue(r.err().contains("state_dir: cannot be written by user nobody: is not writable and searchable by nobody"
                + " (owner root:root, mode rwxr-xr-x) (nobody is the user the unit runs the agent as);"
                + " the agent keeps its term and vote there (got " + state + ")"), r.err());

        chown(state, "nobody");
        Result ok = check(configFile, state);
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("port: 47300"), ok.out());
    }

    @Test
    void aMissingStateDirIsJudgedByItsParentAndNotCreated() throws Exception {
        Path parent = Files.createDirectory(tmp.resolve("lib"));
        Files.setPosixFilePermissions(parent, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path state = parent.resolve("quorumd");
        Result r = check(configFile, state);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("state_dir: cannot be created by user nobody: " + parent
                + " is not writable and searchable by nobody (owner root:root, mode rwxr-xr-x)"), r.err());
        assertFalse(Files.exists(state), "check created " + state);

        chown(parent, "nobody");
        Result ok = check(configFile, state);
        assertEquals(0, ok.code(), ok.err());
        assertFalse(Files.exists(state), "check created " + state);
    }

    @Test
    void anotherConfigFileIsJudgedAsTheCallerAndNothingIsCreated() throws Exception {
        Path parent = Files.createDirectory(tmp.resolve("lib"));
        Path state = parent.resolve("quorumd");
        Result r = check(tmp.resolve("elsewhere.yaml"), state);
        assertEquals(0, r.code(), "root may create it: " + r.err());
        assertFalse(r.err().contains("judged as user"), r.err());
        assertFalse(Files.exists(state), "check created " + state);
    }

    @Test
    void whoIsJudged() throws Exception {
        Path passwd = Files.writeString(tmp.resolve("passwd"),
                "root:x:0:0:root:/root:/bin/bash\nquorumd:x:998:997:quorumd:/var/lib/quorumd:/usr/sbin/nologin\n");
        Path packaged = Path.of(Config.DEFAULT_FILE);
        assertEquals(new ConfigChecker.Judge("quorumd", 998, 997, false),
                ConfigChecker.Judge.forCheck(packaged, 0, packaged, "quorumd", passwd));
        assertEquals(ConfigChecker.Judge.CALLER, ConfigChecker.Judge.forCheck(packaged, 1000, packaged, "quorumd", passwd),
                "not root: as the caller");
        assertEquals(ConfigChecker.Judge.CALLER, ConfigChecker.Judge.forCheck(tmp.resolve("q.yaml"), 0, packaged, "quorumd", passwd),
                "another config: as the caller");
        assertEquals(ConfigChecker.Judge.CALLER, ConfigChecker.Judge.forCheck(packaged, 0, packaged, "postgres", passwd),
                "no such user: as the caller");
    }

    @Test
    void theUnitsStateDirectoryIsSystemdsToCreate() throws Exception {
        // StateDirectory=quorumd: systemd creates /var/lib/quorumd and gives it to the unit's user
        ConfigChecker.Judge nobody = new ConfigChecker.Judge("nobody", 65534, 65534, false);
        assertEquals(null, ConfigChecker.judgeDirectory(ConfigChecker.UNIT_STATE_DIRECTORY, nobody));
    }
}
