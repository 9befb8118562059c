package io.quorumd;

import io.quorumd.config.Config;
import io.quorumd.config.ConfigLoader;
import io.quorumd.control.ControlHandler;
import io.quorumd.control.Reply;
import io.quorumd.core.Role;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator's step-down through real agents: the reply comes from the core's StepDownDone (the
 * agent no longer diffs its view), says the same as before, and the other node takes over.
 */
class AgentStepDownTest {
    @TempDir
    Path tmp;
    private final TestAgents agents = new TestAgents();

    @AfterEach
    void stopAll() throws InterruptedException {
        agents.close();
    }

    private Config config(String node, String peers) throws Exception {
        return ConfigLoader.load(TestAgents.configFile(tmp, node, peers, "{heartbeat: 50ms, election_timeout: 300ms}", ""));
    }

    @Test
    void aStepDownIsAnsweredOnceTheMasterHandedOver() throws Exception {
        int pa = io.quorumd.cli.FreePorts.pair(Set.of());
        int pb = io.quorumd.cli.FreePorts.pair(Set.of(pa));
        String peers = "  - {id: a, host: 127.0.0.1, port: " + pa + "}\n  - {id: b, host: 127.0.0.1, port: " + pb + "}\n";
        Agent a = agents.start(config("a", peers));
        Agent b = agents.start(config("b", peers));
        ControlHandler ha = a.controlHandler();
        ControlHandler hb = b.controlHandler();
        TestAgents.await("a master", 20, () -> ha.status().role() == Role.MASTER || hb.status().role() == Role.MASTER);
        boolean aMaster = ha.status().role() == Role.MASTER;
        ControlHandler master = aMaster ? ha : hb;
        ControlHandler other = aMaster ? hb : ha;

        Reply notMaster = other.stepDown(null).toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(Reply.FAILURE, notMaster.exitCode(), notMaster.body());

        Reply r = master.stepDown(null).toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertEquals(0, r.exitCode(), r.body());
        String name = aMaster ? "a" : "b";
        assertTrue(r.body().matches(name + " stepped down in \\d+ ms; its command is stopped and mastership handed over\n"),
                r.body());
        TestAgents.await("the other node takes over", 20, () -> other.status().role() == Role.MASTER);
    }
}
