package io.quorumd.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the numbers were measured on: they mean little without it. */
record Machine(int cores, long memMiB, String cpu, String kernel, String jdk, String quorumdVersion, String commit,
               String loadAtStart) {
    static Machine describe() {
        return new Machine(Runtime.getRuntime().availableProcessors(), memTotalMiB(), cpuModel(), read("/proc/sys/kernel/osrelease"),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"), version(), gitCommit(),
                loadavg());
    }

    Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", cores);
        m.put("memory_mib", memMiB);
        m.put("cpu", cpu);
        m.put("kernel", kernel);
        m.put("jdk", jdk);
        m.put("quorumd", quorumdVersion);
        m.put("commit", commit);
        m.put("load_average_at_start", loadAtStart);
        return m;
    }

    static String loadavg() {
        String l = read("/proc/loadavg");
        String[] f = l.split(" ");
        return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : l;
    }

    private static String read(String f) {
        try {
            return Files.readString(Path.of(f), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static long memTotalMiB() {
        for (String l : read("/proc/meminfo").split("\n")) {
            if (l.startsWith("MemTotal:")) return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024;
        }
        return -1;
    }

    private static String cpuModel() {
        for (String l : read("/proc/cpuinfo").split("\n")) {
            if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).trim();
        }
        return "unknown";
    }

    /** The agent jar's Implementation-Version, else the launcher's --version. */
    private static String version() {
        String v = run(io.quorumd.it.local.LocalCluster.LAUNCHER.toString(), "--version");
        return v.isEmpty() ? "unknown" : v.lines().findFirst().orElse(v);
    }

    private static String gitCommit() {
        String c = run("git", "rev-parse", "--short", "HEAD");
        String dirty = run("git", "status", "--porcelain", "--untracked-files=no");
        return c.isEmpty() ? "unknown" : c + (dirty.isEmpty() ? "" : " (with uncommitted changes)");
    }

    private static String run(String... argv) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor() == 0 ? s : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    /** The first line {@code exe ARGS} prints (a version), or "unknown". */
    static String firstLine(java.nio.file.Path exe, String... args) {
        java.util.List<String> argv = new java.util.ArrayList<>();
        argv.add(exe.toString());
        argv.addAll(java.util.List.of(args));
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String s = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
            p.waitFor();
            return s.lines().findFirst().orElse("unknown");
        } catch (java.io.IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
