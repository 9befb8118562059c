package io.quorumd.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * JNA's {@code NativeLibrary}, when its class is initialised on Linux, runs {@code /sbin/ldconfig -p}
 * (a child process of the JVM, then its output parsed) to learn the platform's library
 * directories, unless the system property {@value #PROPERTY} names them already. An agent's
 * first JNA call (the control socket's {@code SO_PEERCRED}, sd_notify under systemd) is on its
 * start path, before the first keep-alive: that child process cost 30-100 ms there (measured:
 * bench-results/2026-12-06T1910-startrss/startrss.md). quorumd loads only libc, by its soname
 * ({@code libc.so.6}), which the dynamic linker finds without any search path; the directories
 * set here are the usual ones (what JNA adds besides ldconfig's list), for any other library.
 */
final class JnaSearchPath {
    static final String PROPERTY = "jna.platform.library.path";

    private JnaSearchPath() {}

    /** Sets {@value #PROPERTY} unless it is set already (an operator's value wins); before any JNA class is used. */
    static void set() {
        if (System.getProperty(PROPERTY) != null) return;
        System.setProperty(PROPERTY, String.join(File.pathSeparator, directories()));
    }

    /** The existing library directories: the multiarch ones ({@code /usr/lib/x86_64-linux-gnu}...), lib64, lib. */
    static List<String> directories() {
        List<String> dirs = new ArrayList<>();
        for (String base : new String[] {"/usr/lib", "/lib"}) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(Path.of(base), "*-linux-gnu*")) {
                for (Path p : s) if (Files.isDirectory(p)) dirs.add(p.toString());
            } catch (IOException | RuntimeException e) {
                // no such directory, or not readable: nothing from it
            }
        }
        for (String d : new String[] {"/usr/lib64", "/lib64", "/usr/lib", "/lib"}) {
            if (Files.isDirectory(Path.of(d))) dirs.add(d);
        }
        return dirs;
    }
}
