package io.quorumd.multihost;

import io.quorumd.it.CommandObserver;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Capability;
import io.quorumd.it.CommandObserver.Run;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * N Debian containers that boot systemd, on one Docker network with static addresses, each with
 * the real .deb installed and an agent configured with every peer by IP; plus the host-side
 * {@link CommandObserver} and the faults the scenarios inject.
 *
 * <p>Typical use: {@code try (Cluster c = Cluster.start("kill", 3)) { Run m = c.awaitSingleMaster(); ... }}.
 * Containers get {@code SYS_ADMIN} (systemd; {@code --privileged} fails on these machines),
 * {@code NET_ADMIN} (cutting links inside) and the host's cgroup tree read-only. On close the
 * journal of every node is kept in {@code tests/target/multihost/NAME/}.
 */
final class Cluster implements AutoCloseable {
    static final long HEARTBEAT_MILLIS = 100;
    static final long ELECTION_TIMEOUT_MILLIS = 1000;
    static final long STOP_TIMEOUT_MILLIS = 1000;
    static final double CLOCK_DRIFT = 0.01;
    /** The master's lease: t × (1 − ρ) / (1 + ρ). */
    static final long LEASE_MILLIS = (long) (ELECTION_TIMEOUT_MILLIS * (1 - CLOCK_DRIFT) / (1 + CLOCK_DRIFT));
    /** SPEC liveness: a master's command runs within 2t + stop_timeout × (1 + 2ρ) of the fault. */
    static final long LIVENESS_MILLIS = 2 * ELECTION_TIMEOUT_MILLIS + (long) (STOP_TIMEOUT_MILLIS * (1 + 2 * CLOCK_DRIFT));
    /**
     * What the tests wait for, beyond the SPEC's bounds: this machine has 2 cores shared with
     * other work. Liveness is asserted against this; the exact numbers are reported.
     */
    static final Duration PATIENCE = Duration.ofSeconds(20);
    private static final String DEB_IN_CONTAINER = "/var/tmp/quorumd.deb";

    /** One container: a host of the cluster. */
    static final class Node {
        final String id;
        final String ip;
        final GenericContainer<?> container;

        Node(String id, String ip, GenericContainer<?> container) {
            this.id = id;
            this.ip = ip;
            this.container = container;
        }

        ExecResult exec(String... command) {
            try {
                return container.execInContainer(command);
            } catch (IOException e) {
                throw new UncheckedIOException("exec " + String.join(" ", command) + " in " + id, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted: exec in " + id, e);
            }
        }

        /** Runs a command that must succeed; returns its stdout. */
        String execOk(String... command) {
            ExecResult r = exec(command);
            if (r.getExitCode() != 0) {
                throw new AssertionError(id + ": `" + String.join(" ", command) + "` exited " + r.getExitCode()
                        + "\nstdout: " + r.getStdout() + "\nstderr: " + r.getStderr());
            }
            return r.getStdout();
        }

        /** {@code quorumd status --json} inside the container, parsed. */
        @SuppressWarnings("unchecked")
        Map<String, Object> status() {
            Object o = io.quorumd.control.Json.parse(execOk("quorumd", "status", "--json").trim());
            if (!(o instanceof Map)) throw new AssertionError("status --json is not an object: " + o);
            return (Map<String, Object>) o;
        }

        String containerId() {
            return container.getContainerId();
        }

        @Override
        public String toString() {
            return id + "(" + ip + ")";
        }
    }

    final String name;
    final List<Node> nodes;
    final CommandObserver observer;
    final Path workDir;
    final long t0 = System.nanoTime();
    private final Network network;
    private final DockerClient docker = DockerClientFactory.instance().client();
    private final ExecutorService pool;
    private final Map<String, String> extraConfig = new HashMap<>();
    /** {@code peers[].priority} by node id; unlisted nodes keep the default (written by the next configure). */
    final Map<String, Integer> priorities = new HashMap<>();
    /** {@code timing.preempt_delay} as written in YAML, or null to leave it out (off). */
    String preemptDelay;
    /** {@code command.stop_timeout} in ms for this cluster's nodes. */
    long stopTimeoutMillis = STOP_TIMEOUT_MILLIS;
    /** Each node's CURVE public key from the installed {@code quorumd keygen}; empty in trusted mode. */
    private final Map<String, String> publicKeys = new HashMap<>();
    static final String KEY_PATH = "/etc/quorumd/node.key";
    private final Path hookLog;
    /** The config block that runs the logging hook (quorumd-hook) for both role changes. */
    static final String LOGGING_HOOKS = "hooks:\n  on_master: /usr/local/bin/quorumd-hook\n"
            + "  on_follower: /usr/local/bin/quorumd-hook\n  timeout: 5s";

    /** The lines the logging hook wrote so far on {@code node}: "EVENT ROLE TERM PID" each. */
    List<String> hookLines(Node node) {
        try {
            List<String> out = new ArrayList<>();
            for (String l : Files.readAllLines(hookLog)) {
                String[] f = l.split(" ");
                if (f.length == 5 && f[1].equals(node.id)) out.add(f[0] + " " + f[2] + " " + f[3] + " " + f[4]);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Cluster(String name, int size) throws IOException {
        this.name = name;
        this.workDir = MultiHost.WORK.resolve(name);
        Path observeDir = workDir.resolve("observe");
        Files.createDirectories(observeDir);
        // the command runs as the quorumd user inside: it must be able to append
        Files.setPosixFilePermissions(observeDir, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path log = observeDir.resolve("commands.log");
        Files.deleteIfExists(log);
        Files.createFile(log);
        Files.setPosixFilePermissions(log, PosixFilePermissions.fromString("rw-rw-rw-"));
        // the hooks' own log (tests/src/test/resources/quorumd-hook), written as the quorumd user
        Path hooks = observeDir.resolve("hooks.log");
        Files.deleteIfExists(hooks);
        Files.createFile(hooks);
        Files.setPosixFilePermissions(hooks, PosixFilePermissions.fromString("rw-rw-rw-"));
        this.hookLog = hooks;
        this.observer = CommandObserver.ofUnits(observeDir);
        this.pool = Executors.newFixedThreadPool(size);
        this.network = createNetwork();
        String subnet = docker.inspectNetworkCmd().withNetworkId(network.getId()).exec()
                .getIpam().getConfig().get(0).getSubnet();
        // every address of these tests lies in 198.18.0.0/15 (the engine's address pool)
        assertTrue(subnet.startsWith("198.18.") || subnet.startsWith("198.19."),
                "network " + network.getId() + " got " + subnet + ", outside 198.18.0.0/15: start the engine with tests/docker/engine-and-image.sh");
        String prefix = subnet.substring(0, subnet.lastIndexOf('.') + 1);
        List<Node> list = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            String id = "n" + i;
            String ip = prefix + (10 + i);
            list.add(new Node(id, ip, container(id, ip, observeDir)));
        }
        this.nodes = List.copyOf(list);
    }

    /**
     * A network with a subnet of its own (Docker gives static addresses only on those): a /24
     * from the upper half of 198.19.0.0/16, where the engine's pool (allocated from the bottom)
     * does not reach; another test's network may hold it, so a taken one is retried.
     */
    private static Network createNetwork() {
        java.util.Random random = new java.util.Random();
        RuntimeException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            String subnet = "198.19." + (128 + random.nextInt(127)) + ".0/24";
            Network n = Network.builder().createNetworkCmdModifier(cmd -> cmd.withIpam(
                    new com.github.dockerjava.api.model.Network.Ipam().withConfig(
                            new com.github.dockerjava.api.model.Network.Ipam.Config().withSubnet(subnet)))).build();
            try {
                n.getId();
                return n;
            } catch (RuntimeException e) {
                last = e;
            }
        }
        throw new IllegalStateException("no free /24 in 198.19.128.0/17 after 20 attempts", last);
    }

    /**
     * Containers booted, package installed, CURVE keys made on each node by the installed
     * {@code quorumd keygen} (the normal set-up), config written, agents started.
     */
    static Cluster start(String name, int size) {
        return start(name, size, true);
    }

    /** As {@link #start(String, int)}, in trusted mode (no keys: only the peers' addresses are admitted). */
    static Cluster startTrusted(String name, int size) {
        return start(name, size, false);
    }

    /** As {@link #start(String, int)}, with top-level YAML blocks added to every node's config. */
    static Cluster start(String name, int size, Map<String, String> extraYaml) {
        return start(name, size, true, extraYaml);
    }

    private static Cluster start(String name, int size, boolean curve) {
        return start(name, size, curve, Map.of());
    }

    private static Cluster start(String name, int size, boolean curve, Map<String, String> extraYaml) {
        Cluster c = boot(name, size);
        try {
            extraYaml.forEach(c::extraConfig);
            c.install();
            if (curve) c.keygenAll();
            c.configureAll();
            c.startAgents();
            return c;
        } catch (RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    /** Containers booted with systemd running; nothing installed yet. */
    static Cluster boot(String name, int size) {
        Cluster c;
        try {
            c = new Cluster(name, size);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            long t = System.nanoTime();
            Startables.deepStart(c.nodes.stream().map(n -> n.container)).join();
            for (Node n : c.nodes) {
                c.watch(n);
            }
            c.report(size + " containers booted (systemd running) in " + ms(System.nanoTime() - t) + " ms");
            return c;
        } catch (RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    private GenericContainer<?> container(String id, String ip, Path observeDir) {
        String containerName = "qmh-" + name + "-" + id + "-" + Long.toHexString(System.nanoTime() & 0xffffff);
        @SuppressWarnings("resource")
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(MultiHost.IMAGE))
                .withNetwork(network)
                .withLabel("io.quorumd.multihost", name)
                .withFileSystemBind("/sys/fs/cgroup", "/sys/fs/cgroup", BindMode.READ_ONLY)
                .withFileSystemBind(observeDir.toString(), "/observe", BindMode.READ_WRITE)
                .withCopyFileToContainer(MountableFile.forClasspathResource("quorumd-demo", 0755), "/usr/local/bin/quorumd-demo")
                .withCopyFileToContainer(MountableFile.forClasspathResource("quorumd-hook", 0755), "/usr/local/bin/quorumd-hook")
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withName(containerName).withHostName(id).withIpv4Address(ip)
                            // systemd halts cleanly on SIGRTMIN+3 (SIGTERM would make it re-exec)
                            .withStopSignal("SIGRTMIN+3");
                    cmd.getHostConfig().withCapAdd(Capability.SYS_ADMIN, Capability.NET_ADMIN)
                            .withTmpFs(Map.of("/run", "rw,mode=755", "/run/lock", "rw"));
                })
                .waitingFor(Wait.forSuccessfulCommand("systemctl is-system-running | grep -Eq '^(running|degraded)$'")
                        .withStartupTimeout(Duration.ofSeconds(90)));
        // /var/tmp, not /tmp: a copy into a tmpfs path is invisible once the container runs
        c.withCopyFileToContainer(MountableFile.forHostPath(MultiHost.deb()), DEB_IN_CONTAINER);
        return c;
    }

    // ---------------------------------------------------------------------------------------
    // install, configure, start

    void install() {
        long t = System.nanoTime();
        onEach(n -> n.execOk("dpkg", "-i", DEB_IN_CONTAINER));
        report("dpkg -i on " + nodes.size() + " nodes (in parallel) took " + ms(System.nanoTime() - t) + " ms");
    }

    /**
     * {@code quorumd keygen} on every node as root, the secret file then given to the agent's
     * user (mode 0600 stays); the printed public keys go into every node's peer list.
     */
    void keygenAll() {
        long t = System.nanoTime();
        onEach(n -> {
            String out = n.execOk("quorumd", "keygen", "--out", KEY_PATH);
            n.execOk("chown", "quorumd:quorumd", KEY_PATH + "_secret");
            String key = null;
            for (String line : out.split("\n")) {
                if (io.quorumd.security.CurveKeys.isZ85Key(line.trim())) key = line.trim();
            }
            if (key == null) throw new AssertionError(n.id + ": quorumd keygen printed no public key: " + out);
            synchronized (publicKeys) {
                publicKeys.put(n.id, key);
            }
        });
        report("quorumd keygen on " + nodes.size() + " nodes took " + ms(System.nanoTime() - t) + " ms");
    }

    /** Adds a top-level YAML block to every node's config (written by the next configure). */
    void extraConfig(String key, String yaml) {
        extraConfig.put(key, yaml);
    }

    String configFor(Node node) {
        StringBuilder y = new StringBuilder();
        y.append("# written by the multi-host tests (Cluster.configFor)\n");
        y.append("cluster: mh-").append(name).append('\n');
        y.append("node: ").append(node.id).append('\n');
        y.append("bind: ").append(node.ip).append('\n');
        y.append("peers:\n");
        for (Node p : nodes) {
            y.append("  - id: ").append(p.id).append('\n');
            y.append("    host: ").append(p.ip).append('\n');
            Integer priority = priorities.get(p.id);
            if (priority != null) y.append("    priority: ").append(priority).append('\n');
            String key = publicKeys.get(p.id);
            if (key != null) y.append("    public_key: \"").append(key).append("\"\n");
        }
        if (!publicKeys.isEmpty()) {
            y.append("security:\n  curve:\n    key: ").append(KEY_PATH).append("_secret\n");
        }
        y.append("timing:\n");
        y.append("  heartbeat: ").append(HEARTBEAT_MILLIS).append("ms\n");
        y.append("  election_timeout: ").append(ELECTION_TIMEOUT_MILLIS).append("ms\n");
        y.append("  clock_drift: ").append(Math.round(CLOCK_DRIFT * 100)).append("%\n");
        if (preemptDelay != null) y.append("  preempt_delay: ").append(preemptDelay).append('\n');
        y.append("command:\n");
        y.append("  exec: [\"/usr/local/bin/quorumd-demo\"]\n");
        y.append("  stop_timeout: ").append(stopTimeoutMillis).append("ms\n");
        y.append("  restart: on-failure\n");
        for (String extra : extraConfig.values()) {
            y.append(extra).append('\n');
        }
        return y.toString();
    }

    void configure(Node node) {
        configure(node, configFor(node));
    }

    /** Writes {@code yaml} as the node's /etc/quorumd/quorumd.yaml (root:quorumd 0640, as packaged). */
    void configure(Node node, String yaml) {
        node.container.copyFileToContainer(Transferable.of(yaml.getBytes(StandardCharsets.UTF_8), 0640),
                "/etc/quorumd/quorumd.yaml");
        node.execOk("chgrp", "quorumd", "/etc/quorumd/quorumd.yaml");
    }

    void configureAll() {
        onEach(this::configure);
    }

    void startAgents() {
        long t = System.nanoTime();
        onEach(this::startAgent);
        report("systemctl start quorumd (READY) on " + nodes.size() + " nodes took " + ms(System.nanoTime() - t) + " ms");
    }

    /** {@code systemctl start quorumd} on one node (returns once it notified READY). */
    void startAgent(Node n) {
        ExecResult r = n.exec("systemctl", "start", "quorumd");
        if (r.getExitCode() != 0) {
            throw new AssertionError(n.id + ": systemctl start quorumd exited " + r.getExitCode() + ": "
                    + r.getStderr() + "\n" + journal(n, 30));
        }
    }

    // ---------------------------------------------------------------------------------------
    // observing the master

    /** Waits until exactly one command runs (and has for 200 ms); returns it. */
    Run awaitSingleMaster() {
        Run[] found = new Run[1];
        await("exactly one command running", PATIENCE, () -> {
            List<Run> live = observer.running();
            long now = System.nanoTime();
            if (live.size() == 1 && now - live.get(0).firstSeenNanos() > TimeUnit.MILLISECONDS.toNanos(200)) {
                found[0] = live.get(0);
                return true;
            }
            return false;
        }, observer::describe);
        return found[0];
    }

    /** Waits for a run that starts at or after {@code sinceNanos} and matches. */
    Run awaitRunStartedAfter(long sinceNanos, Predicate<Run> match, String what) {
        Run[] found = new Run[1];
        await(what, PATIENCE, () -> {
            for (Run r : observer.runs()) {
                if (r.firstSeenNanos() >= sinceNanos && match.test(r)) {
                    found[0] = r;
                    return true;
                }
            }
            return false;
        }, observer::describe);
        return found[0];
    }

    /** Waits until the given run's process group is empty; returns when that was observed. */
    Run awaitGone(Run run, Duration timeout) {
        Run[] found = new Run[1];
        await("the command " + run + " to stop", timeout, () -> {
            for (Run r : observer.runs()) {
                if (r.hostPid() == run.hostPid() && r.node().equals(run.node()) && !r.running()) {
                    found[0] = r;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    Node node(String id) {
        for (Node n : nodes) {
            if (n.id.equals(id)) {
                return n;
            }
        }
        throw new IllegalArgumentException("no node " + id + " in " + nodes);
    }

    Node nodeOf(Run run) {
        return node(run.node());
    }

    List<Node> others(Node node) {
        List<Node> out = new ArrayList<>(nodes);
        out.remove(node);
        return out;
    }

    /**
     * Every reachable node agrees: the master says role=master with the run's term, the others
     * follow it. Followers may lag a heartbeat or two, so this polls.
     */
    void assertStatusAgrees(Run master, List<Node> reachable) {
        String[] last = new String[1];
        await("every status to agree that " + master.node() + " is master in term " + master.term(), PATIENCE, () -> {
            for (Node n : reachable) {
                Map<String, Object> s;
                try {
                    s = n.status();
                } catch (AssertionError | RuntimeException e) {
                    last[0] = n.id + ": " + e.getMessage();
                    return false;
                }
                last[0] = n.id + ": " + s;
                boolean isMaster = n.id.equals(master.node());
                if (!(isMaster ? "master" : "follower").equals(s.get("role"))
                        || !master.node().equals(s.get("master"))
                        || !(s.get("term") instanceof Number) || ((Number) s.get("term")).longValue() != master.term()) {
                    return false;
                }
            }
            return true;
        }, () -> "last status: " + last[0]);
    }

    /**
     * What cleared the master that started {@code run} to start it, from that node's
     * {@code status --json} ({@code cleared_by}, {@code old_master}, {@code old_master_term}), checked
     * against the line its agent logged ("cleared to start the command in term N by ..."), and when
     * ({@code cleared_ms_ago}, {@code cleared_after_ms}; null once that mastership is over). Fails
     * when the node is no longer master of that term, or never says.
     */
    Map<String, Object> clearance(Run run) {
        Node n = node(run.node());
        // the journal line is durable; the status says it only while that mastership lasts (a node
        // may lose it again before we ask), so it is the cross-check, not the source
        String[] line = new String[1];
        await(n.id + " logs what cleared it in term " + run.term(), Duration.ofSeconds(5),
                () -> (line[0] = clearanceLogLine(n, run.term())) != null, () -> journal(n, 60));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "by (restart certificate of|hand-over from|fence of|lease expiry: waited out the old lease plus stop_timeout of)"
                        + " (\\S+) \\(master in term (\\d+)\\)").matcher(line[0]);
        Map<String, Object> cleared = new java.util.LinkedHashMap<>();
        if (m.find()) {
            cleared.put("cleared_by", switch (m.group(1)) {
                case "restart certificate of" -> "certificate";
                case "hand-over from" -> "handover";
                case "fence of" -> "fence";
                default -> "lease_expiry";
            });
            cleared.put("old_master", m.group(2));
            cleared.put("old_master_term", Long.parseLong(m.group(3)));
        } else {
            cleared.put("cleared_by", "other: " + line[0]);
        }
        Map<String, Object> s = n.status();
        if ("master".equals(s.get("role")) && Long.valueOf(run.term()).equals(s.get("term"))) {
            for (String k : cleared.keySet()) {
                if (!cleared.get(k).equals(s.get(k)))
                    throw new AssertionError(n.id + ": the log says " + line[0] + " but status says " + s);
            }
            // when: only the status says it (absent when that mastership is already over)
            cleared.put("cleared_ms_ago", s.get("cleared_ms_ago"));
            cleared.put("cleared_after_ms", s.get("cleared_after_ms"));
        }
        return cleared;
    }

    /** The agent's log line saying what cleared it in {@code term}, or null. */
    String clearanceLogLine(Node n, long term) {
        ExecResult r = n.exec("journalctl", "-u", "quorumd", "--no-pager", "-o", "cat");
        String needle = "cleared to start the command in term " + term + " by ";
        String found = null;
        for (String l : r.getStdout().split("\n")) if (l.contains(needle)) found = l;
        return found;
    }

    // ---------------------------------------------------------------------------------------
    // faults; each returns the host's monotonic instant just before it was injected

    long kill(Node n) {
        long t = System.nanoTime();
        docker.killContainerCmd(n.containerId()).exec();
        return t;
    }

    /** Starts a killed or stopped container again and waits for systemd and the agent. */
    void startAgain(Node n) {
        docker.startContainerCmd(n.containerId()).exec();
        awaitBooted(n);
        watch(n);
        awaitAgentActive(n);
    }

    long pause(Node n) {
        long t = System.nanoTime();
        docker.pauseContainerCmd(n.containerId()).exec();
        return t;
    }

    /** Returns the instant the unpause call returned: the thaw happened before it. */
    long unpause(Node n) {
        docker.unpauseContainerCmd(n.containerId()).exec();
        return System.nanoTime();
    }

    long cut(Node n) {
        long t = System.nanoTime();
        n.execOk("ip", "link", "set", "eth0", "down");
        return t;
    }

    void heal(Node n) {
        n.execOk("ip", "link", "set", "eth0", "up");
    }

    /** Drops every packet between the two sides, in both directions, inside each container. */
    long partition(List<Node> a, List<Node> b) {
        return partition(a, b, false);
    }

    /**
     * Cuts the two sides apart inside each container: with {@code reject}, every TCP segment
     * from the far side is answered with a reset and everything else with ICMP port-unreachable
     * (a firewall's REJECT: connections are refused, not silent); otherwise packets are dropped
     * both ways.
     */
    long partition(List<Node> a, List<Node> b, boolean reject) {
        long t = System.nanoTime();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (Node x : nodes) {
            List<Node> far = a.contains(x) ? b : b.contains(x) ? a : List.of();
            if (far.isEmpty()) {
                continue;
            }
            all.add(CompletableFuture.runAsync(() -> {
                StringBuilder sh = new StringBuilder();
                for (Node y : far) {
                    if (reject) {
                        // only INPUT: the resets and ICMP errors must leave; -A keeps the tcp rule first
                        sh.append("iptables -A INPUT -s ").append(y.ip).append(" -p tcp -j REJECT --reject-with tcp-reset && ");
                        sh.append("iptables -A INPUT -s ").append(y.ip).append(" -j REJECT && ");
                    } else {
                        sh.append("iptables -I INPUT -s ").append(y.ip).append(" -j DROP && ");
                        sh.append("iptables -I OUTPUT -d ").append(y.ip).append(" -j DROP && ");
                    }
                }
                sh.append("true");
                x.execOk("sh", "-c", sh.toString());
            }, pool));
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).join();
        return t;
    }

    void healPartition() {
        onEach(n -> n.execOk("sh", "-c", "iptables -F INPUT && iptables -F OUTPUT"));
    }

    /** `docker restart` of every container at once (systemd halts, the agents stop). */
    long restartAll() {
        long t = System.nanoTime();
        onEach(n -> docker.restartContainerCmd(n.containerId()).withTimeout(30).exec());
        onEach(n -> {
            awaitBooted(n);
            watch(n);
        });
        report("docker restart of " + nodes.size() + " containers until systemd runs: " + ms(System.nanoTime() - t) + " ms");
        onEach(this::awaitAgentActive);
        return t;
    }

    void awaitBooted(Node n) {
        await(n.id + " to boot (systemctl is-system-running)", Duration.ofSeconds(90), () -> {
            try {
                ExecResult r = n.exec("sh", "-c", "systemctl is-system-running | grep -Eq '^(running|degraded)$'");
                return r.getExitCode() == 0;
            } catch (RuntimeException e) {
                return false;
            }
        });
    }

    void awaitAgentActive(Node n) {
        await(n.id + ": quorumd.service active", PATIENCE,
                () -> n.exec("systemctl", "is-active", "quorumd").getExitCode() == 0,
                () -> journal(n, 20));
    }

    // ---------------------------------------------------------------------------------------
    // judging

    /**
     * No two runs overlap, judged from the observer: a run is certainly running from its start
     * to its last sighting. Runs for which {@code excused} holds (a frozen host's command) are
     * judged separately by the caller. Also: the fencing token grows strictly from one master
     * to the next. Prints every run, so the report shows the timeline.
     */
    void assertExclusive(Predicate<Run> excused) {
        observer.checkHealthy();
        long now = System.nanoTime();
        List<Run> runs = observer.runs();
        StringBuilder timeline = new StringBuilder();
        for (Run r : runs) {
            String self = r.selfStartNanos() < 0 ? "no self-logged start"
                    : "self-logged start " + String.format("%+.1f", (r.selfStartNanos() - r.firstSeenNanos()) / 1e6) + " ms from first sighting";
            timeline.append(String.format("  %s term %d: %d ms .. %s (%s)%s%n", r.node(), r.term(), ms(r.startNanos() - t0),
                    r.running() ? "running" : ms(r.lastSeenNanos() - t0) + " ms (gone by " + ms(r.goneNanos() - t0) + " ms)",
                    self, excused.test(r) ? " [frozen host: judged apart]" : ""));
        }
        report("runs (ms since the cluster was created; observer " + observer.stats() + "):\n" + timeline.toString().stripTrailing());
        List<String> overlaps = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            for (int j = i + 1; j < runs.size(); j++) {
                Run a = runs.get(i);
                Run b = runs.get(j);
                if (excused.test(a) || excused.test(b)) {
                    continue;
                }
                if (b.startNanos() < a.endNanos(now)) {
                    overlaps.add(a + " ran until " + ms(a.endNanos(now) - t0) + " ms, " + b + " started at "
                            + ms(b.startNanos() - t0) + " ms");
                }
            }
        }
        assertTrue(overlaps.isEmpty(), "commands overlapped:\n" + String.join("\n", overlaps) + "\n" + timeline);
        Run previous = null;
        for (Run r : runs) {
            if (previous != null && !previous.node().equals(r.node())) {
                assertTrue(r.term() > previous.term(), "fencing token did not grow from one master to the next: "
                        + previous + " then " + r + "\n" + timeline);
            }
            previous = r;
        }
    }

    void assertExclusive() {
        assertExclusive(r -> false);
    }

    // ---------------------------------------------------------------------------------------

    String journal(Node n, int lines) {
        try {
            ExecResult r = n.exec("journalctl", "-u", "quorumd", "--no-pager", "-o", "short-monotonic", "-n", Integer.toString(lines));
            return "journal of " + n.id + ":\n" + r.getStdout();
        } catch (RuntimeException e) {
            return "journal of " + n.id + ": unavailable (" + e.getMessage() + ")";
        }
    }

    void report(String line) {
        MultiHost.report(name + ": " + line);
    }

    static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** (Re)points the observer at the node's unit cgroup (after a boot: a new init pid). */
    void watch(Node n) {
        try {
            observer.watch(n.id, initPid(n));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot watch " + n.id + "'s cgroups", e);
        }
    }

    long initPid(Node n) {
        Long pid = docker.inspectContainerCmd(n.containerId()).exec().getState().getPidLong();
        if (pid == null || pid <= 0) {
            throw new IllegalStateException(n.id + " has no running init process");
        }
        return pid;
    }

    private void onEach(java.util.function.Consumer<Node> action) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (Node n : nodes) {
            all.add(CompletableFuture.runAsync(() -> action.accept(n), pool));
        }
        try {
            CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            if (cause instanceof Error) {
                throw (Error) cause;
            }
            throw e;
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        await(what, timeout, condition, () -> "");
    }

    static void await(String what, Duration timeout, BooleanSupplier condition, Supplier<String> detail) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what + "\n" + detail.get());
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what, e);
            }
        }
    }

    Optional<Run> liveOn(Node n) {
        return observer.runningOn(n.id);
    }

    @Override
    public void close() {
        try {
            Files.createDirectories(workDir);
            for (Node n : nodes) {
                if (n.container.getContainerId() == null) {
                    continue;
                }
                try {
                    docker.unpauseContainerCmd(n.containerId()).exec();
                } catch (RuntimeException notPaused) {
                    // the usual case
                }
                try {
                    ExecResult r = n.exec("journalctl", "--no-pager", "-o", "short-monotonic", "-u", "quorumd");
                    Files.writeString(workDir.resolve(n.id + ".journal"), r.getStdout(), StandardCharsets.UTF_8);
                } catch (RuntimeException e) {
                    Files.writeString(workDir.resolve(n.id + ".journal"), "unavailable: " + e, StandardCharsets.UTF_8);
                }
            }
        } catch (IOException e) {
            System.err.println("cannot keep the journals of " + name + ": " + e);
        }
        observer.close();
        for (Node n : nodes) {
            try {
                n.container.stop();
            } catch (RuntimeException e) {
                System.err.println("cannot stop " + n.id + ": " + e);
            }
        }
        try {
            network.close();
        } catch (RuntimeException e) {
            System.err.println("cannot remove network of " + name + ": " + e);
        }
        pool.shutdownNow();
    }
}
