package io.quorumd.cli;

import com.sun.jna.NativeLibrary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JnaSearchPathTest {
    /** A JVM of its own: optionally {@link JnaSearchPath#set}, then JNA's first use, as the agent's control socket makes it. */
    public static final class Child {
        public static void main(String[] args) {
            if (args.length > 0 && args[0].equals("set")) JnaSearchPath.set();
            NativeLibrary.getInstance("c").getFunction("getpid");
            System.out.println("property=" + System.getProperty(JnaSearchPath.PROPERTY));
        }
    }

    /** The classes the child JVM loaded (its -Xlog:class+load) and its output. */
    private static String child(Path dir, String arg) throws IOException, InterruptedException {
        Path classes = dir.resolve("classes-" + arg + ".log");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-Xlog:class+load=info:file=" + classes, "-cp",
                System.getProperty("java.class.path"), Child.class.getName(), arg)
                .redirectErrorStream(true).redirectOutput(dir.resolve("out-" + arg).toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM did not end");
        String out = Files.readString(dir.resolve("out-" + arg), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return Files.readString(classes, StandardCharsets.UTF_8) + "\n" + out;
    }

    @Test
    void jnaStartsNoLdconfigProcessOnceTheSearchPathIsSet(@TempDir Path dir) throws Exception {
        // the probe sees the child process: without the property JNA starts ldconfig (ProcessImpl loaded)
        String without = child(dir, "none");
        assertTrue(without.contains("java.lang.ProcessImpl "), "JNA ran no process without the property: the probe is blind");
        String with = child(dir, "set");
        assertFalse(with.contains("java.lang.ProcessImpl "), "JNA still started a process (ldconfig) with the property set");
        assertTrue(with.contains("property=/"), with);
    }

    @Test
    void theDirectoriesIncludeLibcsAndAnOperatorsValueWins() throws Exception {
        Path libc = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"), StandardCharsets.UTF_8)) {
            int at = line.indexOf('/');
            if (at >= 0 && line.endsWith("/libc.so.6")) libc = Path.of(line.substring(at)).toRealPath().getParent();
        }
        assertTrue(libc != null, "no libc.so.6 mapped in this JVM");
        List<String> dirs = JnaSearchPath.directories();
        boolean found = false;
        for (String d : dirs) found |= Path.of(d).toRealPath().equals(libc);
        assertTrue(found, libc + " not among " + dirs);

        String before = System.getProperty(JnaSearchPath.PROPERTY);
        try {
            System.setProperty(JnaSearchPath.PROPERTY, "/operator/lib");
            JnaSearchPath.set();
            assertEquals("/operator/lib", System.getProperty(JnaSearchPath.PROPERTY));
        } finally {
            if (before == null) System.clearProperty(JnaSearchPath.PROPERTY);
            else System.setProperty(JnaSearchPath.PROPERTY, before);
        }
    }
}
