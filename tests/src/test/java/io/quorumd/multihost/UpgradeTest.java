package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.multihost.Cluster.Node;
import io.quorumd.it.CommandObserver.Run;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.testcontainers.utility.MountableFile;

/**
 * A rolling upgrade in place: every host's config is edited, then a newer package (the built
 * one, repacked with a higher version) is installed with `dpkg -i`, followers first, the master
 * last. The edited config stays untouched (conffile), postinst restarts each agent, the master
 * hands over gracefully, and at no point do two commands overlap.
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class UpgradeTest {
    private static final String CONFIG = "/etc/quorumd/quorumd.yaml";

    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void aRollingUpgradeKeepsTheEditedConfigAndOneMaster() throws Exception {
        try (Cluster c = Cluster.start("upgrade", 3)) {
            Run master = c.awaitSingleMaster();
            String marker = "# edited by the operator before the upgrade " + System.nanoTime();
            List<String> edited = new ArrayList<>();
            for (Node n : c.nodes) {
                n.execOk("sh", "-c", "echo '" + marker + "' >> " + CONFIG);
                edited.add(n.execOk("cat", CONFIG));
            }
            String oldVersion = c.nodes.get(0).execOk("dpkg-query", "-W", "-f=${Version}", "quorumd").trim();
            String newVersion = oldVersion + "+upgrade1";
            Path v2 = repack(MultiHost.deb(), c.workDir.resolve("v2"), newVersion);
            for (Node n : c.nodes) {
                n.container.copyFileToContainer(MountableFile.forHostPath(v2), "/var/tmp/quorumd-v2.deb");
            }

            List<Node> order = new ArrayList<>(c.others(c.nodeOf(master)));
            order.add(c.nodeOf(master));
            for (Node n : order) {
                boolean wasMaster = n.id.equals(master.node());
                String pidBefore = n.execOk("systemctl", "show", "-p", "MainPID", "--value", "quorumd").trim();
                long t = System.nanoTime();
                n.execOk("dpkg", "-i", "/var/tmp/quorumd-v2.deb");
                long installed = System.nanoTime();
                assertEquals(newVersion, n.execOk("dpkg-query", "-W", "-f=${Version}", "quorumd").trim());
                assertEquals(edited.get(c.nodes.indexOf(n)), n.execOk("cat", CONFIG), n.id + ": the edited config must be kept");
                assertNotEquals(0, n.exec("test", "-e", CONFIG + ".dpkg-dist").getExitCode(), "no .dpkg-dist: the shipped config did not change");
                c.awaitAgentActive(n);
                String pidAfter = n.execOk("systemctl", "show", "-p", "MainPID", "--value", "quorumd").trim();
                assertNotEquals(pidBefore, pidAfter, n.id + ": postinst must restart the agent on upgrade");
                if (wasMaster) {
                    Run gone = c.awaitGone(master, Duration.ofSeconds(10));
                    Run next = c.awaitRunStartedAfter(t, r -> !r.node().equals(n.id), "a new master after upgrading the old one");
                    c.report("upgrade of the master " + master + ": dpkg -i took " + Cluster.ms(installed - t) + " ms; old command gone "
                            + Cluster.ms(gone.goneNanos() - t) + " ms after it began, " + next + " ran its command "
                            + Cluster.ms(next.startNanos() - gone.lastSeenNanos()) + " ms after the old one was last seen");
                } else {
                    c.report("upgrade of follower " + n.id + ": dpkg -i took " + Cluster.ms(installed - t) + " ms");
                    assertTrue(c.liveOn(c.nodeOf(master)).isPresent(), () -> "upgrading a follower must not disturb the master\n"
                            + c.journal(c.nodeOf(master), 40) + "\n" + c.journal(n, 40));
                }
            }
            Run settled = c.awaitSingleMaster();
            c.assertStatusAgrees(settled, c.nodes);
            c.assertExclusive();
        }
    }

    /** The built .deb with a higher version: what an upgrade from the archive looks like to dpkg. */
    private static Path repack(Path deb, Path dir, String version) throws IOException, InterruptedException {
        if (Files.exists(dir)) {
            run("rm", "-rf", dir.toString());
        }
        run("dpkg-deb", "-R", deb.toString(), dir.toString());
        Path control = dir.resolve("DEBIAN/control");
        String text = Files.readString(control, StandardCharsets.UTF_8).replaceFirst("(?m)^Version: .*$", "Version: " + version);
        Files.writeString(control, text, StandardCharsets.UTF_8);
        Path out = dir.resolveSibling("quorumd_" + version + "_all.deb");
        run("dpkg-deb", "--root-owner-group", "-b", dir.toString(), out.toString());
        return out;
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }
}
