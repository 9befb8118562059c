package io.quorumd.core;

/**
 * Evidence that the command a master ran is gone, so the next master need not wait out the old
 * lease plus {@code stop_timeout}. Silence and refused connections are never proof.
 *
 * @param kind       how it was obtained
 * @param node       the old master it speaks for
 * @param masterTerm the term in which {@code node} was master (for a restart certificate: the term
 *                   of the last command that node started, as recorded in its state_dir)
 * @param cleared    {@code node} had permission to run its command in {@code masterTerm}, so every
 *                   command of an earlier master was already gone then
 */
public record Proof(Kind kind, String node, long masterTerm, boolean cleared) {

    public enum Kind {
        /** the old master's agent confirmed its command exited and passed mastership on */
        HANDOVER,
        /** the old master's agent restarted and found the previous run's process group empty */
        CERTIFICATE,
        /** the operator's fence hook succeeded against the old master */
        FENCE,
        /** this node was the old master and saw its own command stop */
        SELF
    }

    public Proof {
        if (kind == null || node == null) throw new IllegalArgumentException("proof needs a kind and a node");
        if (masterTerm < 0) throw new IllegalArgumentException("negative term in proof");
    }
}
