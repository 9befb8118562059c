package io.quorumd.control;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Who may change state through the control socket, with real sockets and the real CLI run as
 * another user (setpriv): anyone who can connect reads; step-down needs root, the agent's uid or
 * the agent's group, by the peer's gid or a supplementary group (SO_PEERCRED, /proc/PID/status).
 */
class ControlAccessTest {
    static final Duration T = Duration.ofSeconds(5);
    static final int NOBODY = 65534;

    @TempDir
    Path dir;
    private final ControlServerTest.Agent agent = new ControlServerTest.Agent();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private Path sock;
    private Path config;
    private String classPath;

    @BeforeEach
    void setUp() throws Exception {
        sock = dir.resolve("run/control.sock");
        config = dir.resolve("q.yaml");
        Files.writeString(config, "cluster: c\nnode: node-a\nbind: 127.0.0.1\npeers:\n  - {id: node-a, host: 127.0.0.1, port: 47300}\n"
                + "state_dir: " + dir.resolve("state") + "\ncontrol_socket: " + sock + "\n");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : toClose) c.close();
    }

    private void start(String group) throws Exception {
        toClose.add(ControlServer.start(sock, group, T, agent));
        // for the test only: let any user reach the socket (the agent makes it 0660, owner and group)
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(sock.getParent(), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rw-rw-rw-"));
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
    }

    record Run(int code, String out, String err) {}

    /** The quorumd CLI in its own JVM under {@code setpriv ARGS}, with the launcher's flags. */
    private Run cliAs(List<String> setpriv, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("setpriv"));
        cmd.addAll(setpriv);
        cmd.addAll(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xshare:auto",
                "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED", "-cp", readableClassPath(), "io.quorumd.Main"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the CLI did not finish: " + cmd);
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    /** This JVM's class path, with the jars copied where another user can read them (~/.m2 is private). */
    private String readableClassPath() throws Exception {
        if (classPath != null) return classPath;
        Path lib = Files.createDirectories(dir.resolve("lib"));
        Files.setPosixFilePermissions(lib, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(e);
            if (Files.isRegularFile(p)) {
                Path copy = lib.resolve(entries.size() + "-" + p.getFileName());
                Files.copy(p, copy, StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
                entries.add(copy.toString());
            } else if (Files.isDirectory(p)) {
                entries.add(p.toString());   // target/classes under /work: world-readable
            }
        }
        classPath = String.join(File.pathSeparator, entries);
        return classPath;
    }

    private static void assumeRootWithSetpriv() {
        assumeTrue(PeerCredentials.selfUid() == 0, "running a client as another user needs root");
        assumeTrue(new File("/usr/bin/setpriv").canExecute() || new File("/bin/setpriv").canExecute(), "setpriv");
    }

    @Test
    void theKernelNamesThePeer() throws Exception {
        assumeTrue(PeerCredentials.exact(), "needs --add-exports java.base/sun.nio.ch (surefire's argLine)");
        Path p = dir.resolve("peer.sock");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(p));
            try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(p)); SocketChannel a = s.accept()) {
                assertTrue(c.isConnected());
                PeerCredentials me = PeerCredentials.of(a);
                assertEquals(ProcessHandle.current().pid(), me.pid());
                assertEquals(PeerCredentials.selfUid(), me.uid());
                assertEquals("uid " + me.uid() + " pid " + me.pid(), me.describe());
            }
        }
    }

    @Test
    void theAgentsOwnUserMayStepDown() throws Exception {
        start("no-such-group-for-quorumd-tests");
        assertEquals(new Reply(0, "handed over to node-b\n"), ControlClient.call(sock, "step-down", T));
        assertEquals("null", agent.stepDowns.poll());
    }

    @Test
    void anUnprivilegedUserMayReadButNotStepDown() throws Exception {
        assumeRootWithSetpriv();
        start("no-such-group-for-quorumd-tests");
        List<String> nobody = List.of("--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups");
        Run status = cliAs(nobody, "status", "-c", config.toString());
        assertEquals(0, status.code(), status.err());
        assertEquals(StatusTest.master().toTable(), status.out());
        Run leader = cliAs(nobody, "leader", "-c", config.toString());
        assertEquals(new Run(0, "node-a\n", ""), leader);

        Run stepDown = cliAs(nobody, "step-down", "-c", config.toString());
        assertEquals(1, stepDown.code(), stepDown.err());
        assertTrue(stepDown.err().startsWith("quorumd: permission denied: 'step-down' changes the agent's state, and uid "
                + NOBODY + " is neither root, the agent's uid (0) nor in a group allowed here."), stepDown.err());
        assertNull(agent.stepDowns.poll(), "the agent was not asked");
    }

    /** quorumd exec registers its group with the agent: a state change, refused like step-down. */
    @Test
    void anUnprivilegedUserMayNotRegisterAnExecGroup() throws Exception {
        assumeRootWithSetpriv();
        start("no-such-group-for-quorumd-tests");
        Path ran = dir.resolve("ran");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Run exec = cliAs(List.of("--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"),
                "exec", "-c", config.toString(), "--", "touch", ran.toString());
        assertEquals(1, exec.code(), exec.err());
        assertTrue(exec.err().startsWith("quorumd: permission denied: 'exec-guard' changes the agent's state, and uid "
                + NOBODY + " is neither root"), exec.err());
        assertNull(agent.execGuards.poll(), "the agent was not asked");
        assertTrue(!Files.exists(ran), "CMD never ran: it was held until a guard that never came");
        // root may: the request reaches the agent
        Run rootExec = cliAs(List.of("--reuid=0", "--regid=0", "--clear-groups"),
                "exec", "-c", config.toString(), "--", "touch", ran.toString());
        assertEquals(1, rootExec.code(), rootExec.err());
        assertTrue(rootExec.err().contains("the stub guards nothing"), rootExec.err());
        assertTrue(agent.execGuards.poll().endsWith(" 7"), "the term of exec-term");
        assertTrue(!Files.exists(ran));
    }

    @Test
    void membersOfTheAgentsGroupMayStepDownByPrimaryOrSupplementaryGroup() throws Exception {
        assumeRootWithSetpriv();
        assumeTrue(PeerCredentials.groupId("nogroup") == NOBODY, "group nogroup (65534) on this host");
        start("nogroup");   // stands in for 'quorumd'
        Run primary = cliAs(List.of("--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"),
                "step-down", "-c", config.toString());
        assertEquals(0, primary.code(), primary.err());
        assertEquals("null", agent.stepDowns.poll());
        Run supplementary = cliAs(List.of("--reuid=" + NOBODY, "--regid=1", "--groups=" + NOBODY),
                "step-down", "--to", "node-b", "-c", config.toString());
        assertEquals(0, supplementary.code(), supplementary.err());
        assertEquals("node-b", agent.stepDowns.poll());
        Run other = cliAs(List.of("--reuid=" + NOBODY, "--regid=1", "--clear-groups"), "step-down", "-c", config.toString());
        assertEquals(1, other.code(), other.err());
        assertTrue(other.err().contains("nor in group nogroup (gid 65534)"), other.err());
        assertNull(agent.stepDowns.poll());
    }

    @Test
    void rulesByName() {
        ControlAccess a = new ControlAccess(1000, "quorumd", "quorumd", 998);
        assertNull(a.refusal(new PeerCredentials(5, 0, 0, List.of(), null, null)));
        assertNull(a.refusal(new PeerCredentials(5, 1000, 1000, List.of(), null, null)));
        assertNull(a.refusal(new PeerCredentials(5, 1001, 998, List.of(), null, null)));
        assertNull(a.refusal(new PeerCredentials(5, 1001, 1001, List.of(4L, 998L), null, null)));
        assertTrue(a.refusal(new PeerCredentials(5, 1001, 1001, List.of(4L), null, null)).contains("uid 1001"));
        assertTrue(a.refusal(null).contains("could not be read"));
        // the fallback without --add-exports: names only
        assertNull(a.refusal(new PeerCredentials(-1, -1, -1, List.of(), "root", "root")));
        assertNull(a.refusal(new PeerCredentials(-1, -1, -1, List.of(), "ops", "quorumd")));
        assertTrue(a.refusal(new PeerCredentials(-1, -1, -1, List.of(), "ops", "ops")).contains("user ops"));
    }
}
