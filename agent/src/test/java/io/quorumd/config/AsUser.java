package io.quorumd.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs {@code quorumd} (io.quorumd.Main of this build) in a child JVM as another user, so that
 * what a file's mode or a directory's owner does to an unprivileged user is tested even where the
 * tests run as root (CI). The class path is copied once to a world-readable temporary directory:
 * the build's own is under /root, which no other user may enter.
 */
final class AsUser {
    static final int NOBODY = 65534;

    record Result(int code, String out, String err) {}

    private static Path copied;

    private AsUser() {}

    /** The effective uid of this JVM (the owner of /proc/self). */
    static int uid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean isRoot() {
        return uid() == 0;
    }

    /** {@code quorumd ARGS} as uid/gid {@code id} (no supplementary groups), through setpriv. */
    static Result run(int id, Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups", "--"));
        cmd.addAll(java(args));
        return exec(cmd, env);
    }

    /** {@code quorumd ARGS} as this JVM's user, from the same copied class path. */
    static Result runHere(Map<String, String> env, String... args) {
        return exec(java(args), env);
    }

    private static List<String> java(String... args) {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-cp", classPath(), "io.quorumd.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static Result exec(List<String> cmd, Map<String, String> env) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().remove("QUORUMD_CONFIG");
            if (env != null) pb.environment().putAll(env);
            Path out = Files.createTempFile("asuser-out", ".txt");
            Path err = Files.createTempFile("asuser-err", ".txt");
            try {
                Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd) + " did not exit");
                return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** This JVM's class path, copied to a directory every user may read (once per JVM). */
    static synchronized String classPath() {
        try {
            if (copied == null) {
                Path d = Files.createTempDirectory("quorumd-cp-");
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
                Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(d)));
                int i = 0;
                List<String> entries = new ArrayList<>();
                for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
                    Path src = Path.of(e);
                    if (!Files.exists(src)) continue;
                    Path dst = d.resolve(i++ + "-" + src.getFileName());
                    copyReadable(src, dst);
                    entries.add(dst.toString());
                }
                copied = d;
                System.setProperty("quorumd.test.readableClassPath", String.join(File.pathSeparator, entries));
            }
            return System.getProperty("quorumd.test.readableClassPath");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copyReadable(Path src, Path dst) throws IOException {
        if (Files.isDirectory(src)) {
            try (Stream<Path> s = Files.walk(src)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    Path t = dst.resolve(src.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(t);
                        Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
                    } else {
                        Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
                        Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rw-r--r--"));
                    }
                }
            }
        } else {
            Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(dst, PosixFilePermissions.fromString("rw-r--r--"));
        }
    }

    private static void delete(Path d) {
        try (Stream<Path> s = Files.walk(d)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }
}
