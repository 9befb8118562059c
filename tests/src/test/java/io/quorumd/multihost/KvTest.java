package io.quorumd.multihost;

import io.quorumd.it.CommandObserver.Run;
import io.quorumd.multihost.Cluster.Node;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.testcontainers.containers.Container.ExecResult;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The replicated store on the installed package, across real hosts: {@code quorumd kv put} on one
 * host and {@code get} on another, before and after {@code docker kill} of the master's host; a
 * write fenced with the deposed master's term is refused there, as the managed command of a
 * deposed master would be.
 */
@Tag("multihost")
@Execution(ExecutionMode.CONCURRENT)
class KvTest {
    @BeforeAll
    static void environment() {
        MultiHost.requireEnvironment();
    }

    @Test
    void aValuePutOnOneHostIsReadOnAnotherAcrossAMasterKill() throws Exception {
        try (Cluster c = Cluster.start("kv", 3)) {
            Run master = c.awaitSingleMaster();
            Node m = c.nodeOf(master);
            List<Node> followers = c.others(m);
            Node f1 = followers.get(0);
            Node f2 = followers.get(1);
            // a follower's agent forwards the write to the master; the other follower reads it back
            String rev = f1.execOk("quorumd", "kv", "put", "app/leader", "v1").trim();
            assertTrue(rev.matches("[0-9]+"), "put prints the new revision: " + rev);
            assertEquals("v1", f2.execOk("quorumd", "kv", "get", "app/leader"), "a linearizable get on another host");
            // the master's own command would write with its term: accepted while it is master
            m.execOk("quorumd", "kv", "put", "--term", Long.toString(master.term()), "app/fenced", "term " + master.term());

            long fault = c.kill(m);
            Run next = c.awaitRunStartedAfter(fault, r -> !r.node().equals(m.id), "a new master after docker kill");
            Node now = c.nodeOf(next);
            Node other = now == f1 ? f2 : f1;
            for (Node n : List.of(now, other)) {
                String[] got = new String[1];
                Cluster.await(n.id + " reads app/leader after the kill", Cluster.PATIENCE, () -> {
                    ExecResult r = n.exec("quorumd", "kv", "get", "app/leader");
                    got[0] = r.getExitCode() + " " + r.getStdout() + r.getStderr();
                    return r.getExitCode() == 0;
                }, () -> got[0]);
                assertEquals("v1", n.execOk("quorumd", "kv", "get", "app/leader"), n.id + ": the acknowledged write survived");
                assertEquals("term " + master.term(), n.execOk("quorumd", "kv", "get", "app/fenced"), n.id);
            }
            // a late write fenced with the deposed master's term: refused (exit 4), nothing written
            ExecResult late = other.exec("quorumd", "kv", "put", "--term", Long.toString(master.term()), "app/fenced", "late");
            assertEquals(4, late.getExitCode(), "a write fenced with the old term " + master.term() + ": " + late.getStdout()
                    + late.getStderr());
            assertEquals("term " + master.term(), now.execOk("quorumd", "kv", "get", "app/fenced"), "nothing was written");
            // the survivors go on: a write on one host is read on the other
            other.execOk("quorumd", "kv", "put", "app/leader", "v2");
            assertEquals("v2", now.execOk("quorumd", "kv", "get", "app/leader"));
            c.report("kv across docker kill of " + m.id + ": put on " + f1.id + ", read on " + f2.id + " before and on "
                    + now.id + "/" + other.id + " after (new master " + now.id + ", term " + next.term()
                    + "); the old term's fenced write refused: " + late.getStderr().trim());
        }
    }
}
