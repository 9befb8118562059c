package io.quorumd.config;

import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Real config files in a test's temporary directory. */
final class ConfigFiles {
    /** SPEC's example, verbatim. */
    static final String SPEC_EXAMPLE = """
            cluster: payments            # required; frames carrying another cluster name are dropped
            node: node-a                 # required; this node's id, one of peers[].id
            bind: auto                   # auto = the primary IP (address of the default-route
                                         # interface); or an IP literal
            peers:                       # required; every voter, this node included
              - id: node-a
                host: 198.18.0.11        # host name or IP
                port: 51621              # optional, default 51621: keep-alives (PUB) on port,
                                         # votes (REP) on port + 1
                priority: 100            # optional, default 100; higher is preferred as master
              - id: node-b
                host: 198.18.0.12
              - id: node-c
                host: 198.18.0.13
            timing:                      # optional; durations as 250ms, 2s, 1m
              heartbeat: 100ms
              election_timeout: 1000ms   # randomised in [t, 2t); the master's lease is a little
                                         # shorter than t (check prints it)
              clock_drift: 1%            # assumed bound on clock-rate difference between hosts
            command:                     # optional; without it quorumd only elects (and runs hooks)
              exec: ["/usr/bin/my-service", "--primary"]   # argv, no shell; or a string run by /bin/sh -c
              workdir: /var/lib/my-service
              env: {KEY: value}
              stop_signal: TERM
              stop_timeout: 5s           # then SIGKILL to the whole process group
              restart: on-failure        # never | on-failure | always, with exponential back-off
              max_restarts: 5            # within restart_window; past it the master steps down and
                                         # does not campaign again for restart_window
              restart_window: 60s
            hooks:                       # optional short scripts, like keepalived's notify scripts
              on_master: /etc/quorumd/hooks/master.sh
              on_follower: /etc/quorumd/hooks/follower.sh
              fence: /etc/quorumd/hooks/fence.sh   # optional: lets a new master skip the wait; gets
                                         # QUORUMD_OLD_MASTER and QUORUMD_OLD_TERM too
              timeout: 10s               # for each hook run; a hook past it is killed, its group too
            state_dir: /var/lib/quorumd  # term, vote (and later the log)
            control_socket: /run/quorumd/control.sock   # local Unix socket, mode 0660
            kv:
              max_bytes: 64MiB           # the key-value store's size limit; sizes as 512KiB, 64MiB, 1GiB
            log_level: info
            """;

    /** Two peers on loopback, every other setting left out. */
    static final String MINIMAL = """
            cluster: c1
            node: a
            peers:
              - id: a
                host: 127.0.0.1
                port: 40001
              - id: b
                host: 127.0.0.1
                port: 40003
            """;

    private ConfigFiles() {}

    static Path write(Path dir, String text) throws IOException {
        return write(dir, text.getBytes(StandardCharsets.UTF_8));
    }

    static Path write(Path dir, byte[] bytes) throws IOException {
        Path f = dir.resolve("quorumd.yaml");
        Files.write(f, bytes);
        return f;
    }

    /** The message the loader refuses {@code text} with. */
    static String error(Path dir, String text) throws IOException {
        return errorOf(write(dir, text));
    }

    static String errorOf(Path file) {
        return assertThrows(ConfigException.class, () -> ConfigLoader.load(file)).getMessage();
    }

    static Config load(Path dir, String text) throws IOException, ConfigException {
        return ConfigLoader.load(write(dir, text));
    }
}
