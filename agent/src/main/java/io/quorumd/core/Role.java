package io.quorumd.core;

/** The three Raft roles, named as operators know them. */
public enum Role {
    FOLLOWER, CANDIDATE, MASTER;

    /** Lower-case name, as shown by {@code quorumd status} and in {@code QUORUMD_ROLE}. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
