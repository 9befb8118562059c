package io.quorumd.command;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the restart certificate reads: {@code command.state} (written by the agent, fsynced,
 * before every fork and after every confirmed end) and {@code command.pgid} (written by the
 * wrapper inside the new group, before the command may exec).
 *
 * <p>{@code command.state} is {@code key=value} lines: {@code state} ({@code starting} or {@code
 * stopped}), {@code term}, {@code run} (a random id per spawn that the pgid file must repeat),
 * {@code kernel_boot_id} (after a reboot no process of the old run can exist), and {@code cgroup}
 * (the agent's systemd cgroup when it runs under systemd).
 *
 * @param state "starting" or "stopped"
 * @param cgroup empty when not under systemd
 */
record CommandRecord(String state, long term, String run, String kernelBootId, String cgroup) {
    static final String STATE_FILE = "command.state";
    static final String PGID_FILE = "command.pgid";

    static CommandRecord starting(long term, String run, Host host) {
        return new CommandRecord("starting", term, run, host.kernelBootId(), host.systemdCgroup());
    }

    CommandRecord stopped() {
        return new CommandRecord("stopped", term, run, kernelBootId, cgroup);
    }

    /** Replaces the record durably: temp file, fsync, rename, fsync of the directory. */
    void write(Path stateDir) throws IOException {
        String text = "state=" + state + "\nterm=" + term + "\nrun=" + run + "\nkernel_boot_id=" + kernelBootId
                + "\ncgroup=" + cgroup + "\n";
        Path tmp = stateDir.resolve(STATE_FILE + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, stateDir.resolve(STATE_FILE), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel dir = FileChannel.open(stateDir, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    /** Removes an old run's group id, so that it can never be read as the next run's. */
    static void clearPgid(Path stateDir) throws IOException {
        Files.deleteIfExists(stateDir.resolve(PGID_FILE + ".tmp"));
        Files.deleteIfExists(stateDir.resolve(PGID_FILE));
    }

    /** The record, or null if there is none; an unreadable or garbled one is an IOException. */
    static CommandRecord read(Path stateDir) throws IOException {
        Map<String, String> kv;
        try {
            kv = parse(Files.readString(stateDir.resolve(STATE_FILE), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return null;
        }
        String state = kv.get("state");
        if (!"starting".equals(state) && !"stopped".equals(state)) {
            throw new IOException(stateDir.resolve(STATE_FILE) + ": state is '" + state + "', not starting or stopped");
        }
        try {
            return new CommandRecord(state, Long.parseLong(kv.getOrDefault("term", "")), kv.getOrDefault("run", ""),
                    kv.getOrDefault("kernel_boot_id", ""), kv.getOrDefault("cgroup", ""));
        } catch (NumberFormatException e) {
            throw new IOException(stateDir.resolve(STATE_FILE) + ": term is not a number (got '" + kv.get("term") + "')");
        }
    }

    /** The group id the wrapper wrote for {@code run}, or -1 if there is none for that run. */
    static int readPgid(Path stateDir, String run) throws IOException {
        String text;
        try {
            text = Files.readString(stateDir.resolve(PGID_FILE), StandardCharsets.UTF_8).trim();
        } catch (NoSuchFileException e) {
            return -1;
        }
        // one line: "pgid=N run=ID"
        Map<String, String> kv = parse(text.replace(' ', '\n'));
        if (!run.equals(kv.get("run"))) {
            return -1;
        }
        try {
            int pgid = Integer.parseInt(kv.getOrDefault("pgid", ""));
            return pgid > 1 ? pgid : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static Map<String, String> parse(String text) {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                kv.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        return kv;
    }
}
