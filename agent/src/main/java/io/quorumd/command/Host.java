package io.quorumd.command;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Facts about this host that the restart certificate compares across agent runs. A record so
 * that tests can describe another host (a reboot, a systemd cgroup) without being one.
 *
 * @param kernelBootId {@code /proc/sys/kernel/random/boot_id}; it changes with every boot
 * @param systemdCgroup the agent's cgroup path when it runs as a systemd service, else ""
 * @param cgroupProcs that cgroup's {@code cgroup.procs} file, or null
 * @param selfPid the agent's pid, which that file lists too
 */
record Host(String kernelBootId, String systemdCgroup, Path cgroupProcs, long selfPid) {

    static Host current() {
        String bootId;
        try {
            bootId = Files.readString(Path.of("/proc/sys/kernel/random/boot_id"), StandardCharsets.US_ASCII).trim();
        } catch (IOException e) {
            bootId = "";
        }
        String cgroup = "";
        Path procs = null;
        // INVOCATION_ID is set by systemd for each service start; elsewhere the cgroup is shared.
        if (System.getenv("INVOCATION_ID") != null) {
            cgroup = serviceCgroup();
            procs = cgroup.isEmpty() ? null : procsFile(Path.of("/sys/fs/cgroup"), cgroup);
            if (procs == null) {
                cgroup = "";
            }
        }
        return new Host(bootId, cgroup, procs, ProcessHandle.current().pid());
    }

    private static String serviceCgroup() {
        try {
            return serviceCgroup(Files.readAllLines(Path.of("/proc/self/cgroup"), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * The unified (v2) path, else the v1 name=systemd one, of a {@code .service} cgroup, from the
     * lines of {@code /proc/self/cgroup}; "" when neither is a service's.
     */
    static String serviceCgroup(List<String> lines) {
        String v1 = "";
        for (String line : lines) {
            if (line.startsWith("0::") && line.endsWith(".service")) {
                return line.substring(3);
            }
            int i = line.indexOf(":name=systemd:");
            if (i >= 0 && line.endsWith(".service")) {
                v1 = line.substring(i + ":name=systemd:".length());
            }
        }
        return v1;
    }

    static Path procsFile(Path sysfs, String cgroup) {
        String rel = cgroup.startsWith("/") ? cgroup.substring(1) : cgroup;
        for (Path base : List.of(sysfs, sysfs.resolve("unified"), sysfs.resolve("systemd"))) {
            Path f = base.resolve(rel).resolve("cgroup.procs");
            if (Files.isReadable(f)) {
                return f;
            }
        }
        return null;
    }

    /** The pids in the service's cgroup other than the agent, or null if that cannot be read. */
    List<Long> otherCgroupProcesses() {
        if (cgroupProcs == null) {
            return null;
        }
        List<Long> others = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(cgroupProcs, StandardCharsets.US_ASCII)) {
                String t = line.trim();
                if (!t.isEmpty() && Long.parseLong(t) != selfPid) {
                    others.add(Long.parseLong(t));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return null;
        }
        return others;
    }
}
