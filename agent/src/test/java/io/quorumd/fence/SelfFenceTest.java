package io.quorumd.fence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.quorumd.Agent;
import io.quorumd.cli.FreePorts;
import io.quorumd.config.Config;
import io.quorumd.config.ConfigLoader;
import io.quorumd.control.ControlClient;
import io.quorumd.control.Reply;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code self_fence} with real agents and a stand-in device: a regular file in the test's
 * directory that the agent opens, pets ('.') and closes with the magic 'V', read by the test. The
 * real /dev/watchdog is never named, so it is never opened.
 */
class SelfFenceTest {
    @TempDir
    Path tmp;
    private final io.quorumd.TestAgents agents = new io.quorumd.TestAgents();

    @AfterEach
    void stopAll() throws InterruptedException {
        agents.close();
    }

    private Config config(String node, String peers, String extra) throws Exception {
        return ConfigLoader.load(io.quorumd.TestAgents.configFile(tmp, node, peers, "{heartbeat: 50ms, election_timeout: 300ms}", extra));
    }

    private Agent start(Config c) throws Exception {
        return agents.start(c);
    }

    private Path device(String name) throws IOException {
        Path d = tmp.resolve(name);
        Files.writeString(d, "");
        return d;
    }

    private static String leader(Path sock) {
        Reply r = ControlClient.call(sock, "leader", Duration.ofSeconds(2));
        return r.exitCode() == 0 ? r.body().trim() : null;
    }

    private static void await(String what, long seconds, BooleanSupplier cond) throws InterruptedException {
        io.quorumd.TestAgents.await(what, seconds, cond);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theMasterPetsWhileItHoldsItsLeaseAndDisarmsOnACleanStop() throws Exception {
        int p = FreePorts.pair(Set.of());
        Path dev = device("watchdog");
        Agent a = start(config("solo", "  - {id: solo, host: 127.0.0.1, port: " + p + "}\n",
                "self_fence: {mode: auto, device: " + dev + "}\n"));
        await("the master pets the device", 20, () -> read(dev).length() >= 5);
        String pets = read(dev);
        assertTrue(pets.matches("\\.+"), "only pets while master: " + pets);
        Thread.sleep(300);
        assertTrue(read(dev).length() > pets.length(), "petting goes on while the lease holds");
        a.requestShutdown();
        assertTrue(a.awaitExit(TimeUnit.SECONDS.toNanos(20)));
        String end = read(dev);
        assertTrue(end.matches("\\.+V"), "a clean stop closes with the magic 'V', nothing after: " + end);
    }

    /**
     * The lease lost, the command not yet gone: no pets at all (the device counts down), and the
     * magic close only once the command's group is empty.
     */
    @Test
    void noPetsOnceTheLeaseIsLostAndTheMagicCloseOnlyAfterTheCommandIsGone() throws Exception {
        int pa = FreePorts.pair(Set.of());
        int pb = FreePorts.pair(Set.of(pa));
        String peers = "  - {id: a, host: 127.0.0.1, port: " + pa + "}\n  - {id: b, host: 127.0.0.1, port: " + pb + "}\n";
        Path started = tmp.resolve("cmd.started");
        String cmd = "command: {exec: \"trap '' TERM; touch " + started + "; while :; do sleep 0.05; done\","
                + " stop_timeout: 3s}\n";
        Path devA = device("wd-a");
        Path devB = device("wd-b");
        Agent a = start(config("a", peers, cmd + "self_fence: {mode: required, device: " + devA + "}\n"));
        Agent b = start(config("b", peers, cmd + "self_fence: {mode: required, device: " + devB + "}\n"));
        await("a master runs its command", 20, () -> Files.exists(started));
        String master = leader(tmp.resolve("a.sock"));
        Path dev = "a".equals(master) ? devA : devB;
        Agent follower = "a".equals(master) ? b : a;
        await("the master pets", 10, () -> read(dev).length() >= 3);
        assertEquals("", read("a".equals(master) ? devB : devA), "the follower never opens its device");

        follower.requestShutdown();   // the master loses its majority, then its lease (about 300 ms)
        Path masterSock = tmp.resolve(master + ".sock");
        await("the master lost its lease and stepped down", 10, () -> !master.equals(leader(masterSock)));
        Thread.sleep(200);   // a pet cycle that began before the lease's end has written by now
        String afterLease = read(dev);
        assertTrue(afterLease.matches("\\.+"), "no magic close while the command runs on: " + afterLease);
        Thread.sleep(1000);   // still within stop_timeout (3 s): the command ignores SIGTERM
        assertEquals(afterLease, read(dev), "no pet once the lease is lost");
        await("the magic close after the command's SIGKILL", 10, () -> read(dev).endsWith("V"));
        assertEquals(afterLease + "V", read(dev));
    }

    /**
     * {@code required} without the device: the agent runs, votes and follows, but does not
     * campaign (SPEC "Operations"); a lone node therefore stays without master until the device
     * appears, then elects itself and pets it. Broken once (the core ignoring FenceEligibility):
     * the node was master within a second.
     */
    @Test
    void requiredWithoutTheDeviceRunsButDoesNotCampaignUntilItIsUsable() throws Exception {
        int p = FreePorts.pair(Set.of());
        Path dev = tmp.resolve("late-watchdog");
        Path sock = tmp.resolve("solo.sock");
        start(config("solo", "  - {id: solo, host: 127.0.0.1, port: " + p + "}\n",
                "self_fence: {mode: required, device: " + dev + "}\n"));
        await("the agent answers", 20, () -> ControlClient.call(sock, "status", Duration.ofSeconds(2)).exitCode() == 0);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);   // more than 6 election timeouts
        while (System.nanoTime() < until) {
            assertEquals(null, leader(sock), "a master without its required device");
            Thread.sleep(50);
        }
        device("late-watchdog");
        await("master once the device exists", 20, () -> "solo".equals(leader(sock)));
        await("the master pets the device", 20, () -> read(dev).length() >= 3);
    }

    /**
     * Two nodes with {@code required}: the master's device disappears (its file is removed; the
     * agent looks once a second), so the master hands over to the other, which pets its own
     * device, and does not take mastership back while its device is missing.
     */
    @Test
    void aMasterWhoseRequiredDeviceGoesAwayHandsOver() throws Exception {
        int pa = FreePorts.pair(Set.of());
        int pb = FreePorts.pair(Set.of(pa));
        String peers = "  - {id: a, host: 127.0.0.1, port: " + pa + "}\n  - {id: b, host: 127.0.0.1, port: " + pb + "}\n";
        Path devA = device("wd-a");
        Path devB = device("wd-b");
        start(config("a", peers, "self_fence: {mode: required, device: " + devA + "}\n"));
        start(config("b", peers, "self_fence: {mode: required, device: " + devB + "}\n"));
        Path sockA = tmp.resolve("a.sock");
        await("a master", 20, () -> leader(sockA) != null);
        String master = leader(sockA);
        String other = "a".equals(master) ? "b" : "a";
        Path otherSock = tmp.resolve(other + ".sock");
        Files.delete("a".equals(master) ? devA : devB);
        await(other + " master after " + master + "'s device went away", 20, () -> other.equals(leader(otherSock)));
        Path otherDev = "a".equals(master) ? devB : devA;
        await(other + " pets its device", 20, () -> read(otherDev).length() >= 3);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (System.nanoTime() < until) {
            assertEquals(other, leader(otherSock), master + " took mastership back without its device");
            Thread.sleep(50);
        }
    }

    @Test
    void autoWithoutTheDeviceAndOffNeverTouchIt() throws Exception {
        int p = FreePorts.pair(Set.of());
        Path dev = device("watchdog-off");
        start(config("solo", "  - {id: solo, host: 127.0.0.1, port: " + p + "}\n",
                "self_fence: {mode: \"off\", device: " + dev + "}\n"));
        int q = FreePorts.pair(Set.of(p));
        start(config("other", "  - {id: other, host: 127.0.0.1, port: " + q + "}\n",
                "self_fence: {mode: auto, device: " + tmp.resolve("absent") + "}\n"));
        await("both master", 20, () -> "solo".equals(leader(tmp.resolve("solo.sock")))
                && "other".equals(leader(tmp.resolve("other.sock"))));
        Thread.sleep(300);
        assertEquals("", read(dev), "off: the device is never written");
        assertTrue(!Files.exists(tmp.resolve("absent")));
        assertNotEquals(null, leader(tmp.resolve("other.sock")));
    }
}
