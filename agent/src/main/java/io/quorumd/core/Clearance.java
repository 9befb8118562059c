package io.quorumd.core;

/**
 * What cleared a master to run its command: the proof it held, or the wait it sat out.
 *
 * @param by        {@link By#label()}: {@code certificate}, {@code handover}, {@code fence},
 *                  {@code own_stop}, {@code lease_expiry}, {@code no_master} or {@code self}
 * @param oldMaster the newest earlier master the voters knew (the one the proof or wait is about),
 *                  or null when none was known
 * @param oldTerm   that master's term, 0 when none was known
 * @param reason    the same in words, for logs
 */
public record Clearance(By by, String oldMaster, long oldTerm, String reason) {

    public enum By {
        /** the old master's agent restarted and found its command's process group empty */
        CERTIFICATE("certificate"),
        /** the old master stopped its command and handed mastership over */
        HANDOVER("handover"),
        /** the fence hook succeeded against the old master after its lease ended */
        FENCE("fence"),
        /** this node was the old master and saw its own command stop */
        OWN_STOP("own_stop"),
        /** no proof: the old lease plus stop_timeout was waited out */
        LEASE_EXPIRY("lease_expiry"),
        /** no voter knew a master, and none could have been forgotten */
        NO_MASTER("no_master"),
        /** the newest master the voters knew is this node in this very term */
        SELF("self");

        private final String label;

        By(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** The kind for a proof offered by (or kept about) the old master. */
        static By of(Proof.Kind k) {
            return switch (k) {
                case CERTIFICATE -> CERTIFICATE;
                case HANDOVER -> HANDOVER;
                case FENCE -> FENCE;
                case SELF -> OWN_STOP;
            };
        }
    }

    public Clearance {
        if (by == null || reason == null) throw new IllegalArgumentException("a clearance needs a kind and a reason");
    }

    /** One line for the log: {@code restart certificate of node-b (master in term 4)}. */
    public String describe() {
        String who = oldMaster == null ? "" : " (master in term " + oldTerm + ")";
        return switch (by) {
            case CERTIFICATE -> "restart certificate of " + oldMaster + who;
            case HANDOVER -> "hand-over from " + oldMaster + who;
            case FENCE -> "fence of " + oldMaster + who;
            case OWN_STOP -> "own stop: this node was master in term " + oldTerm + " and saw its command stop";
            case LEASE_EXPIRY -> "lease expiry: waited out the old lease plus stop_timeout"
                    + (oldMaster == null ? "" : " of " + oldMaster + who);
            case NO_MASTER -> "no earlier master known";
            case SELF -> "this node is that master";
        };
    }
}
