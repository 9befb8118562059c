package io.quorumd.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** quorumd check looks for every program the agent executes, where the agent looks for it. */
class ProgramsTest {
    @TempDir
    Path dir;

    private Path program(Path in, String name, String mode) throws IOException {
        Files.createDirectories(in);
        Path p = Files.writeString(in.resolve(name), "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
        return p;
    }

    @Test
    void everyProgramFoundMeansNothingMissing() throws IOException {
        Path bin = dir.resolve("bin");
        for (String n : List.of("setpriv", "setsid", "sh", "bash")) program(bin, n, "rwxr-xr-x");
        Path mv = program(dir.resolve("coreutils"), "mv", "rwxr-xr-x");
        Path scripts = Files.createDirectories(dir.resolve("scripts"));
        Files.writeString(scripts.resolve(Spawner.WRAPPER), "");
        Files.writeString(scripts.resolve(Spawner.WATCHDOG), "");
        assertEquals(List.of(), Programs.missing(bin.toString(), List.of(), List.of(mv.toString()), scripts));
    }

    @Test
    void eachMissingProgramIsNamedWithItsPackage() throws IOException {
        Path bin = dir.resolve("bin");
        program(bin, "sh", "rwxr-xr-x");
        program(bin, "setsid", "rwxr-xr-x");
        program(bin, "bash", "rw-r--r--");   // there, but not executable: the agent could not run it
        Path other = dir.resolve("sbin");
        List<String> missing = Programs.missing(bin + ":" + other, List.of(other.toString()),
                List.of(dir.resolve("no/mv").toString()), dir.resolve("no-scripts"));
        assertEquals(List.of(
                "setpriv not found in PATH or /usr/local/bin, /usr/bin, /bin, /usr/sbin, /sbin: install util-linux"
                        + " (every command and hook starts through it)",
                "bash not found in PATH or /usr/local/bin, /usr/bin, /bin, /usr/sbin, /sbin: install bash"
                        + " (it runs the watchdog that stops the command when the lease ends)",
                "mv not found at " + dir.resolve("no/mv") + ": install coreutils (the wrapper of every command runs it)",
                dir.resolve("no-scripts/" + Spawner.WRAPPER) + " is missing or unreadable: the agent's installation is"
                        + " incomplete (reinstall the package; in a checkout, build the agent: make build)",
                dir.resolve("no-scripts/" + Spawner.WATCHDOG) + " is missing or unreadable: the agent's installation is"
                        + " incomplete (reinstall the package; in a checkout, build the agent: make build)"), missing);
    }

    @Test
    void theStandardDirectoriesAreSearchedAfterPath() throws IOException {
        Path std = dir.resolve("usr-bin");
        for (String n : List.of("setpriv", "setsid", "sh", "bash")) program(std, n, "rwxr-xr-x");
        Path mv = program(dir.resolve("coreutils"), "mv", "rwxr-xr-x");
        // an empty PATH, as a unit's environment may have: the agent still finds them
        assertEquals(List.of(), Programs.missing("", List.of(std.toString()), List.of(mv.toString()), null));
        assertEquals(std.resolve("setpriv"), Programs.find("setpriv", null, List.of(std.toString())));
    }

    @Test
    void thisHostHasWhatTheAgentRuns() {
        // the agent's own tests start commands here: what check says must agree
        assertEquals(List.of(), Programs.missing());
        assertTrue(Programs.find("setpriv", System.getenv("PATH"), Programs.STANDARD_DIRS) != null);
    }
}
