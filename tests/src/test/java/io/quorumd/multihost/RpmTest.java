package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quorumd.multihost.Cluster.Node;
import io.quorumd.it.CommandObserver.Run;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.utility.MountableFile;

/**
 * The .rpm's scriptlets under a real systemd: installed with Debian's rpm (`--nodeps`: the Java
 * runtime is Debian's package, not an RPM), so %pre creates the user, %post applies the preset
 * and starts nothing, a reinstall keeps the edited %config(noreplace) file and restarts the
 * agent, and an erase stops it. No RPM distribution image can be built here without a
 * registry, so this is as close as the machine gets.
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class RpmTest {
    private static final String CONFIG = "/etc/quorumd/quorumd.yaml";

    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void scriptletsInstallUpgradeAndEraseUnderSystemd() {
        try (Cluster c = Cluster.boot("rpm", 1)) {
            Node n = c.nodes.get(0);
            n.container.copyFileToContainer(MountableFile.forHostPath(MultiHost.rpm()), "/var/tmp/quorumd.rpm");
            n.execOk("rpm", "--initdb");
            ExecResult install = n.exec("rpm", "-i", "--nodeps", "/var/tmp/quorumd.rpm");
            assertEquals(0, install.getExitCode(), "rpm -i: " + install.getStdout() + install.getStderr());

            assertTrue(n.execOk("getent", "passwd", "quorumd").contains(":/var/lib/quorumd:"), "%pre creates the user");
            assertEquals("root:quorumd 640", n.execOk("stat", "-c", "%U:%G %a", CONFIG).trim());
            assertEquals("quorumd:quorumd 750", n.execOk("stat", "-c", "%U:%G %a", "/var/lib/quorumd").trim());
            assertEquals(0, n.exec("test", "-f", "/etc/sysconfig/quorumd").getExitCode());
            assertEquals(0, n.exec("test", "-f", "/usr/lib/systemd/system/quorumd.service").getExitCode());
            assertNotEquals("active", n.exec("systemctl", "is-active", "quorumd").getStdout().trim(), "%post starts nothing");
            assertEquals(2, n.exec("quorumd", "check").getExitCode(), "the shipped config is refused");

            c.configure(n);
            n.execOk("systemctl", "start", "quorumd");
            Run first = c.awaitSingleMaster();
            String marker = "# edited before the reinstall";
            n.execOk("sh", "-c", "echo '" + marker + "' >> " + CONFIG);
            String edited = n.execOk("cat", CONFIG);
            String pidBefore = n.execOk("systemctl", "show", "-p", "MainPID", "--value", "quorumd").trim();

            ExecResult upgrade = n.exec("rpm", "-U", "--replacepkgs", "--nodeps", "/var/tmp/quorumd.rpm");
            assertEquals(0, upgrade.getExitCode(), "rpm -U: " + upgrade.getStdout() + upgrade.getStderr());
            assertEquals(edited, n.execOk("cat", CONFIG), "%config(noreplace) keeps the edit");
            c.awaitAgentActive(n);
            Cluster.await("%postun to restart the agent", Duration.ofSeconds(20), () ->
                    !n.execOk("systemctl", "show", "-p", "MainPID", "--value", "quorumd").trim().equals(pidBefore));
            c.awaitGone(first, Duration.ofSeconds(10));
            Run second = c.awaitSingleMaster();
            c.report("rpm -U --replacepkgs restarted the agent; command " + first + " then " + second);

            n.execOk("rpm", "-e", "--nodeps", "quorumd");
            c.awaitGone(second, Duration.ofSeconds(10));
            assertNotEquals(0, n.exec("test", "-e", "/usr/lib/systemd/system/quorumd.service").getExitCode());
            assertEquals(0, n.exec("test", "-f", CONFIG + ".rpmsave").getExitCode(), "an edited config is saved on erase");
            c.assertExclusive();
        }
    }
}
