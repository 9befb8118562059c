package io.quorumd.multihost;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;

/**
 * What every multi-host test needs before it starts, and where results go.
 *
 * <p>Without a Docker engine, the image or the .deb, the tests are skipped with a message that
 * says what to run; under {@code CI=true} they fail instead, so a CI machine that lost its
 * engine cannot pass by skipping.
 */
final class MultiHost {
    static final String IMAGE = System.getProperty("quorumd.image", "quorumd-base:bookworm-systemd-2");
    static final Path ROOT = Path.of(System.getProperty("quorumd.root", "..")).toAbsolutePath().normalize();
    static final Path WORK = ROOT.resolve("tests/target/multihost");
    static final Path REPORT = ROOT.resolve("tests/target/multihost-report.txt");

    private MultiHost() {}

    /** Skips (or, under CI=true, fails) the calling test class unless everything is there. */
    static void requireEnvironment() {
        List<String> missing = new ArrayList<>();
        if (!isRoot()) {
            missing.add("root: the observer reads /proc/PID/environ of the containers' processes, and Docker needs it");
        }
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            missing.add("a Docker engine: start one with `sudo tests/docker/engine-and-image.sh engine` (or run .ci/run)");
        } else if (!imageExists()) {
            missing.add("the image " + IMAGE + ": build it with `make image`");
        }
        if (findDeb() == null) {
            missing.add("a .deb in packaging/target: build it with `make deb`");
        }
        if (missing.isEmpty()) {
            return;
        }
        String message = "multi-host tests need " + String.join("; ", missing);
        if ("true".equals(System.getenv("CI"))) {
            fail(message + " (CI=true: failing instead of skipping)");
        }
        Assumptions.abort(message);
    }

    static Path deb() {
        Path deb = findDeb();
        if (deb == null) {
            throw new IllegalStateException("no quorumd_*_all.deb in " + ROOT.resolve("packaging/target") + ": run `make deb`");
        }
        return deb;
    }

    static Path rpm() {
        Path dir = ROOT.resolve("packaging/target");
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("quorumd-.*\\.noarch\\.rpm"))
                    .max(Comparator.comparingLong(p -> p.toFile().lastModified()))
                    .orElseThrow(() -> new IllegalStateException("no quorumd-*.noarch.rpm in " + dir + ": run `make rpm`"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": run `make rpm`", e);
        }
    }

    /** Appends a line to tests/target/multihost-report.txt (and stdout): what the lead reads. */
    static synchronized void report(String line) {
        System.out.println("[multihost] " + line);
        try {
            Files.createDirectories(REPORT.getParent());
            Files.writeString(REPORT, line + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + REPORT, e);
        }
    }

    private static Path findDeb() {
        Path dir = ROOT.resolve("packaging/target");
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("quorumd_.*_all\\.deb"))
                    .max(Comparator.comparingLong(p -> p.toFile().lastModified()))
                    .orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean imageExists() {
        try {
            DockerClientFactory.instance().client().inspectImageCmd(IMAGE).exec();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[1].equals("0");
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }
}
