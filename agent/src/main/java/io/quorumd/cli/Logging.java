package io.quorumd.cli;

/**
 * slf4j-simple reads its settings once, when the first logger is made: set them before that.
 * Levels: error, warn, info, debug, trace (config {@code log_level}).
 */
final class Logging {
    private Logging() {}

    static void configure(String level) {
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", level);
        setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
        setIfAbsent("org.slf4j.simpleLogger.showShortLogName", "true");
        // under systemd the journal adds the time; elsewhere show it
        if (System.getenv("INVOCATION_ID") == null) {
            setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
            setIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
        }
        // JeroMQ logs nothing through slf4j; jna neither
    }

    private static void setIfAbsent(String k, String v) {
        if (System.getProperty(k) == null) System.setProperty(k, v);
    }
}
