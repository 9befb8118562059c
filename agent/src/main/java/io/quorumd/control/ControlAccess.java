package io.quorumd.control;

/**
 * Who may change state through the control socket ({@code step-down}, and every later request
 * that writes): uid 0, the agent's own uid, or a member of the agent's group ({@code quorumd}),
 * by the peer's effective gid or one of its supplementary groups. Anyone who can connect may read.
 *
 * @param agentUid  the agent's effective uid
 * @param agentUser the agent's user name (compared when a peer's numbers are unknown)
 * @param group     the group whose members may change state, or null
 * @param groupGid  its gid, or -1 when the group does not exist on this host
 */
public record ControlAccess(long agentUid, String agentUser, String group, long groupGid) {

    /** The rules for this process and {@code group} (looked up through NSS now). */
    public static ControlAccess forThisProcess(String group) {
        return new ControlAccess(PeerCredentials.selfUid(), System.getProperty("user.name"), group,
                PeerCredentials.groupId(group));
    }

    /** Null when {@code peer} may change state; otherwise why not, for the log and the reply. */
    public String refusal(PeerCredentials peer) {
        if (peer == null) return "its credentials (SO_PEERCRED) could not be read";
        if (peer.uid() >= 0) {
            if (peer.uid() == 0 || peer.uid() == agentUid) return null;
            if (groupGid >= 0 && (peer.gid() == groupGid || peer.groups().contains(groupGid))) return null;
            return "uid " + peer.uid() + " is neither root, the agent's uid (" + agentUid + ") nor "
                    + (groupGid >= 0 ? "in group " + group + " (gid " + groupGid + ")" : "in a group allowed here");
        }
        // names only (no --add-exports for the numeric path): user and primary group
        if ("root".equals(peer.user()) || peer.user().equals(agentUser)) return null;
        if (group != null && group.equals(peer.group())) return null;
        return "user " + peer.user() + " is neither root, the agent's user (" + agentUser + ") nor in group " + group;
    }
}
