package io.quorumd.kv;

import java.util.List;

/** What {@link KvMachine#changesSince} answers. */
public sealed interface Changes {

    /**
     * The matching changes from the asked revision on, oldest first.
     *
     * @param revision the machine's revision when asked: a watch resumes from {@code revision + 1}
     */
    record Events(List<Change> changes, long revision) implements Changes {
        public Events {
            changes = List.copyOf(changes);
        }
    }

    /**
     * The asked revision is older than the history holds: changes before {@code oldestAvailable}
     * were dropped, so no complete answer exists. Never a silent partial answer.
     */
    record Compacted(long requested, long oldestAvailable) implements Changes {}
}
