package io.quorumd.core;

import io.quorumd.core.Message.Append;
import io.quorumd.core.Message.AppendAck;
import io.quorumd.core.Message.InstallSnapshot;
import io.quorumd.core.Message.InstallSnapshotAck;
import io.quorumd.core.Message.HandOver;
import io.quorumd.core.Message.HandOverAck;
import io.quorumd.core.Message.KeepAlive;
import io.quorumd.core.Message.Preempt;
import io.quorumd.core.Message.VoteRequest;
import io.quorumd.core.Message.VoteResponse;

/**
 * The term gate, before any role's handling (etcd's {@code Step}): a newer term is adopted
 * (persisted before anything that relies on it goes out), unless the message may not move this
 * node's term; an older one is answered or dropped. What a message offers whatever its term (a
 * proof) is taken before ({@link #offered}).
 */
final class TermGate {
    private final Node n;

    TermGate(Node n) {
        this.n = n;
    }

    /**
     * What a message offers whatever its term, before the gate: a node's proof about its own old
     * command (on its keep-alives, and on a hand-over addressed to this node).
     */
    void offered(Message m, long now) {
        Proof p = null;
        if (m instanceof KeepAlive k) p = k.proof();
        else if (m instanceof HandOver h && n.self.equals(h.to())) p = h.proof();
        if (p == null || !p.node().equals(m.from())) return;
        Proof old = n.proofs.get(p.node());
        if (old == null || p.masterTerm() >= old.masterTerm()) n.proofs.put(p.node(), p);
        MasterState ms = n.mastership();
        if (ms != null && !ms.cleared) n.evaluateClearance(now);
    }

    /** True when the message goes on to its handler, in a term it may act on. */
    boolean pass(Message m, long now) {
        long ours = n.state.term();
        if (m instanceof KeepAlive k) {
            if (k.term() > ours) {
                if (k.claimsMastership()) {
                    n.adoptTerm(k.term(), now, k.from() + " is master in term " + k.term());
                } else if (!n.isSticky(now) || n.role() == Role.MASTER) {
                    // A master that sees a peer in a newer term steps down (as etcd does): otherwise a
                    // node that got ahead during a partition could never rejoin.
                    n.adoptTerm(k.term(), now, k.from() + " is in term " + k.term());
                } else {
                    n.trace("ignored term %d from %s: still hearing master %s", k.term(), k.from(), n.knowledge.master);
                    return false;
                }
            }
            return k.term() >= n.state.term();   // stale: it will see our term in our keep-alives
        }
        if (m instanceof VoteRequest v) {
            // a pre-vote changes no state: its term is a question, judged with the rest in voteRefusal
            if (v.preVote()) return true;
            if (v.term() < ours) {
                n.voter.refuseVote(v, "stale term " + v.term() + " < " + ours);
                return false;
            }
            // a sticky node does not let a candidate move its term (etcd's in-lease check)
            if (n.isSticky(now) && !n.voter.transferAccepted(v)) {
                n.voter.refuseVote(v, n.voter.stickyReason(now));
                return false;
            }
            if (v.term() > ours) n.adoptTerm(v.term(), now, v.from() + " campaigns in term " + v.term());
            return true;
        }
        if (m instanceof VoteResponse r) {
            if (r.preVote()) {
                // a grant names the proposed term (checked against the round); a refusal from a
                // newer term is adopted unless this node is sticky, and does nothing else
                if (r.granted()) return true;
                if (n.current() instanceof FollowerRole f && f.answersRound(r) && r.term() > ours && !n.isSticky(now))
                    n.adoptTerm(r.term(), now, r.from() + " is in term " + r.term());
                return false;
            }
            if (r.term() > ours) {
                n.adoptTerm(r.term(), now, r.from() + " answered from term " + r.term());
                return false;
            }
            return r.term() == ours;
        }
        if (m instanceof HandOver h) {
            if (!n.self.equals(h.to())) return false;
            if (h.term() != ours) {
                n.campaign.refuseHandOver(h, "hand-over from term " + h.term() + ", this node is in term " + ours);
                return false;
            }
            return true;
        }
        if (m instanceof HandOverAck) return true;   // matched by its request id, whatever its term
        if (m instanceof Preempt p) {
            // asks the master of its own term, and never moves a term: a stale or early one is refused
            if (p.term() != ours) {
                n.preemption.refuse(p, "preempt from term " + p.term() + ", this node is in term " + ours);
                return false;
            }
            return true;
        }
        if (m instanceof Append a) return passAppend(a, now);
        if (m instanceof AppendAck a) {
            if (a.term() > ours) n.adoptTerm(a.term(), now, a.from() + " answered an append from term " + a.term());
            return a.term() == n.state.term() && a.term() == ours;
        }
        if (m instanceof InstallSnapshot s) {
            // a snapshot comes only from the master of a term, like an append: a stale one is refused
            if (s.term() < ours) {
                n.send(new Effect.Respond(s.from(), new InstallSnapshotAck(n.self, ours, n.bootId, s.requestId(), false,
                        s.lastIndex(), 0)));
                return false;
            }
            return passMaster(s.from(), s.term(), now, "it sends its snapshot");
        }
        if (m instanceof InstallSnapshotAck a) {
            if (a.term() > ours) n.adoptTerm(a.term(), now, a.from() + " answered a snapshot from term " + a.term());
            return a.term() == n.state.term() && a.term() == ours;
        }
        throw new IllegalArgumentException("unhandled message " + m);
    }

    /**
     * Only the master of a term appends: a newer term is adopted like its keep-alive's claim, an
     * older one is answered with this node's term (the stale master learns it is deposed), and a
     * candidate of the same term has lost its election.
     */
    private boolean passAppend(Append a, long now) {
        long ours = n.state.term();
        if (a.term() < ours) {
            n.send(new Effect.Respond(a.from(), new AppendAck(n.self, ours, n.bootId, a.requestId(), false, 0, 0, 0)));
            return false;
        }
        return passMaster(a.from(), a.term(), now, "it appends");
    }

    /** A message only the master of {@code term} sends, of this node's term or newer. */
    private boolean passMaster(String from, long term, long now, String what) {
        if (term > n.state.term()) n.adoptTerm(term, now, from + " is master in term " + term + " (" + what + ")");
        if (n.role() == Role.MASTER)
            throw new IllegalStateException("two masters in term " + term + ": this node " + n.self + " and " + from
                    + ", which " + what.substring(3));
        if (n.role() == Role.CANDIDATE) n.becomeFollower(from, now, from + " is master in term " + term);
        return true;
    }

    /** The term field of {@code m} that no node may hold (negative or over {@link TermState#MAX_TERM}), or null. */
    static String badTerm(Message m) {
        if (!TermState.validTerm(m.term())) return "term " + m.term();
        Proof p = null;
        long lastLogTerm = 0;
        if (m instanceof KeepAlive k) {
            p = k.proof();
            lastLogTerm = k.lastLogTerm();
        } else if (m instanceof VoteRequest v) {
            p = v.transfer();
            lastLogTerm = v.lastLogTerm();
        } else if (m instanceof VoteResponse v) {
            if (v.report() != null && !TermState.validTerm(v.report().masterTerm()))
                return "report.masterTerm " + v.report().masterTerm();
        } else if (m instanceof HandOver h) {
            p = h.proof();
        } else if (m instanceof Append a) {
            lastLogTerm = a.prevTerm();
            for (io.quorumd.log.LogEntry e : a.entries())
                if (!TermState.validTerm(e.term())) return "entry " + e.index() + " term " + e.term();
        } else if (m instanceof AppendAck a) {
            lastLogTerm = a.conflictTerm();
        } else if (m instanceof InstallSnapshot x) {
            lastLogTerm = x.lastTerm();
        }
        if (p != null && !TermState.validTerm(p.masterTerm())) return "proof.masterTerm " + p.masterTerm();
        if (!TermState.validTerm(lastLogTerm)) return "lastLogTerm " + lastLogTerm;
        return null;
    }
}
