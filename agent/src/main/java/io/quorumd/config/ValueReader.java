package io.quorumd.config;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Typed values out of a composed YAML tree, each with its position, and the problems found on
 * the way, worded as SPEC's messages: what is wrong, at the value as written.
 *
 * <p>Scalars are read by the schema's type, not by YAML 1.1's guesses: a string setting takes
 * {@code yes} as the string "yes", and a number is plain decimal digits ({@code 0x10} is not a port).
 */
final class ValueReader {
    static final int MAX_NAME_LENGTH = 64;
    private static final int MAX_REPORTED = 50;

    private static final Set<String> NULLS = Set.of("", "~", "null", "Null", "NULL");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");
    private static final Pattern DIGITS = Pattern.compile("[0-9]{1,9}");
    private static final Pattern PERCENT = Pattern.compile("([0-9]{1,3}(?:\\.[0-9]{1,6})?)%");
    private static final Pattern ANCHOR = Pattern.compile("^&\\S+\\s+");

    private final Path file;
    private final SourceText source;
    private final Map<String, ConfigLoader.AliasUse> aliases;
    private final List<ConfigProblem> problems = new ArrayList<>();
    private final Map<String, Position> positions = new LinkedHashMap<>();

    ValueReader(Path file, SourceText source, Map<String, ConfigLoader.AliasUse> aliases) {
        this.file = file;
        this.source = source;
        this.aliases = aliases;
    }

    /** {@code timing.heartbeat}; a key too long or with a line break is cut so that a message stays one line. */
    static String join(String parent, String key) {
        String k = clip(key);
        return parent.isEmpty() ? k : parent + "." + k;
    }

    static String item(String parent, int index) {
        return parent + "[" + index + "]";
    }

    /** A value as an operator can read it in one line of a message. */
    static String clip(String s) {
        int nl = s.indexOf('\n');
        String line = nl >= 0 ? s.substring(0, nl).stripTrailing() + "..." : s;
        return line.length() > 80 ? line.substring(0, 77) + "..." : line;
    }

    boolean hasProblems() {
        return !problems.isEmpty();
    }

    Positions positions() {
        return new Positions(positions);
    }

    /** The keys of mapping {@code m} at {@code path}, checked against {@code known} (null: any name). */
    Fields fields(String path, MappingNode m, List<String> known) {
        return new Fields(path, m, known);
    }

    /** A mapping that is not in the file: every key takes its default, cited at {@code at}. */
    Fields absent(String path, Position at) {
        return new Fields(path, at);
    }

    ConfigException failure() {
        List<ConfigProblem> sorted = new ArrayList<>(problems);
        sorted.sort(Comparator.comparingInt((ConfigProblem p) -> p.position().line())
                .thenComparingInt(p -> p.position().column()));
        if (sorted.size() > MAX_REPORTED) {
            int more = sorted.size() - MAX_REPORTED;
            sorted = new ArrayList<>(sorted.subList(0, MAX_REPORTED));
            sorted.add(new ConfigProblem(file, null, "", more + " more problems not shown", null));
        }
        return new ConfigException(sorted);
    }

    /**
     * An optional section: null (and a problem) when it is not a mapping; {@link Fields#absent}
     * when it is missing or written with no value, which reads as "not configured".
     */
    Fields section(Fields parent, String key, List<String> keys, String expected) {
        Node n = parent.value(key);
        String path = parent.keyPath(key);
        if (n == null || isNull(n)) {
            Position at = n == null ? parent.at : Position.of(n.getStartMark());
            positions.put(path, at);
            return new Fields(path, at);
        }
        record(path, n);
        if (!(n instanceof MappingNode)) {
            problem(n, path, "must be " + expected);
            return null;
        }
        return new Fields(path, (MappingNode) n, keys);
    }

    /** A scalar's text; null (with a problem) when missing, empty or not a scalar. */
    String string(Fields f, String key, String defaultValue, String expected) {
        Node n = f.value(key);
        String path = f.keyPath(key);
        if (n == null) {
            if (defaultValue == null) missing(f, key);
            else f.defaulted(key);
            return defaultValue;
        }
        record(path, n);
        if (!(n instanceof ScalarNode) || isNull(n)) {
            problem(n, path, "must be " + expected);
            return null;
        }
        return ((ScalarNode) n).getValue();
    }

    String name(Fields f, String key, String expected) {
        String s = string(f, key, null, expected);
        if (s == null) return null;
        if (s.length() > MAX_NAME_LENGTH || !NAME.matcher(s).matches()) {
            problem(f.value(key), f.keyPath(key), "must be " + expected + ": letters, digits, '.', '_' and '-', at most "
                    + MAX_NAME_LENGTH);
            return null;
        }
        return s;
    }

    Integer integer(Fields f, String key, int defaultValue, int min, int max, String expected) {
        Node n = f.value(key);
        String path = f.keyPath(key);
        if (n == null) {
            f.defaulted(key);
            return defaultValue;
        }
        record(path, n);
        if (n instanceof ScalarNode && !isNull(n)) {
            ScalarNode s = (ScalarNode) n;
            if (s.getScalarStyle() != DumperOptions.ScalarStyle.PLAIN) {
                problem(n, path, "must be " + expected + ", written without quotes");
                return null;
            }
            if (DIGITS.matcher(s.getValue()).matches()) {
                int v = Integer.parseInt(s.getValue());
                if (v >= min && v <= max) return v;
            }
        }
        problem(n, path, "must be " + expected);
        return null;
    }

    Duration duration(Fields f, String key, Duration defaultValue, boolean zeroAllowed) {
        String s = string(f, key, Durations.format(defaultValue),
                "a duration such as " + (zeroAllowed ? "0s, " : "") + "250ms, 2s or 1m30s");
        if (s == null) return null;
        if (!f.has(key)) return defaultValue;
        try {
            return Durations.parse(s, zeroAllowed);
        } catch (IllegalArgumentException e) {
            problem(f.value(key), f.keyPath(key), e.getMessage());
            return null;
        }
    }

    /**
     * A percentage such as {@code 1%} or {@code 0.5%}, as a fraction.
     *
     * @param whyMax said when the value is above {@code maxFraction}
     */
    Double percent(Fields f, String key, double defaultFraction, double maxFraction, String whyMax) {
        String range = "from 0% to " + ConfigPrinter.percent(maxFraction);
        String s = string(f, key, ConfigPrinter.percent(defaultFraction), "a percentage " + range + ", e.g. 1%");
        if (s == null) return null;
        if (!f.has(key)) return defaultFraction;
        Matcher m = PERCENT.matcher(s);
        if (!m.matches()) {
            problem(f.value(key), f.keyPath(key), "must be a percentage " + range + ", e.g. 1%");
            return null;
        }
        BigDecimal fraction = new BigDecimal(m.group(1)).movePointLeft(2);
        if (fraction.compareTo(BigDecimal.valueOf(maxFraction)) > 0) {
            problem(f.value(key), f.keyPath(key), "must be " + range + ": " + whyMax);
            return null;
        }
        return fraction.doubleValue();
    }

    <T> T parsed(Fields f, String key, T defaultValue, Function<String, T> parser, String expected) {
        String s = string(f, key, "-", expected);
        if (s == null) return null;
        if (!f.has(key)) return defaultValue;
        try {
            return parser.apply(s);
        } catch (IllegalArgumentException e) {
            problem(f.value(key), f.keyPath(key), e.getMessage());
            return null;
        }
    }

    String choice(Fields f, String key, String defaultValue, Predicate<String> allowed,
                          String choices) {
        String s = string(f, key, defaultValue, "one of " + choices);
        if (s == null || allowed.test(s)) return s;
        problem(f.value(key), f.keyPath(key), "must be one of " + choices);
        return null;
    }

    Path absolutePath(Fields f, String key, Path defaultValue, String expected) {
        Node n = f.value(key);
        if (n == null) {
            f.defaulted(key);
            return defaultValue;
        }
        String s = string(f, key, "-", expected);
        if (s == null) return null;
        if (!s.startsWith("/") || s.indexOf('\0') >= 0) {
            problem(n, f.keyPath(key), "must be " + expected);
            return null;
        }
        return Path.of(s);
    }

    static boolean isNull(Node n) {
        return n instanceof ScalarNode && ((ScalarNode) n).getScalarStyle() == DumperOptions.ScalarStyle.PLAIN
                && NULLS.contains(((ScalarNode) n).getValue());
    }

    /** The value as written: the source text of a scalar, or what kind of collection it is. */
    String got(Node n) {
        if (n instanceof SequenceNode) return ((SequenceNode) n).getValue().isEmpty() ? "an empty list" : "a list";
        if (n instanceof MappingNode) return ((MappingNode) n).getValue().isEmpty() ? "an empty mapping" : "a mapping";
        String written = source.slice(n.getStartMark().getIndex(), n.getEndMark().getIndex());
        written = ANCHOR.matcher(written).replaceFirst("").strip();
        return written.isEmpty() ? "nothing" : clip(written);
    }

    /** Where the value at {@code path} was written: at its alias when it is one, else at the node. */
    private Position position(Node n, String path) {
        ConfigLoader.AliasUse alias = aliases.get(path);
        return alias != null ? alias.position() : Position.of(n.getStartMark());
    }

    void record(String path, Node n) {
        positions.putIfAbsent(path, position(n, path));
    }

    void problem(Node n, String path, String what) {
        ConfigLoader.AliasUse alias = aliases.get(path);
        add(position(n, path), path, what, alias != null ? "*" + alias.anchor() + " = " + got(n) : got(n));
    }

    void problemGot(Node n, String path, String what, String got) {
        add(position(n, path), path, what, got);
    }

    void missing(Fields f, String key) {
        add(f.at, f.keyPath(key), "required key is missing", null);
    }

    void add(Position at, String path, String what, String got) {
        problems.add(new ConfigProblem(file, at, path, what, got));
    }

    /**
     * The keys of one mapping, checked: each a plain name, known here, given once. Unknown and
     * duplicate keys are reported at the key itself.
     */
    final class Fields {
        final String path;
        /** Where a missing key is reported: the mapping itself. */
        final Position at;
        /** The section is not in the file (or has no value). */
        final boolean absent;
        final Map<String, NodeTuple> byKey = new LinkedHashMap<>();
        boolean ok = true;

        Fields(String path, Position at) {
            this.path = path;
            this.at = at;
            this.absent = true;
        }

        Fields(String path, MappingNode m, List<String> known) {
            this.path = path;
            this.at = Position.of(m.getStartMark());
            this.absent = false;
            Map<String, Node> first = new LinkedHashMap<>();
            for (NodeTuple t : m.getValue()) {
                Node k = t.getKeyNode();
                if (!(k instanceof ScalarNode)) {
                    problem(k, path, "a key must be a plain name");
                    ok = false;
                    continue;
                }
                String name = ((ScalarNode) k).getValue();
                String kp = join(path, name);
                if (first.containsKey(name)) {
                    problem(k, kp, "duplicate key, first given at line " + (first.get(name).getStartMark().getLine() + 1)
                            + "; keep one");
                    ok = false;
                } else if (known != null && !known.contains(name)) {
                    first.put(name, k);
                    problem(k, kp, unknownKey(name, known));
                    ok = false;
                } else {
                    first.put(name, k);
                    byKey.put(name, t);
                }
            }
        }

        Node value(String key) {
            NodeTuple t = byKey.get(key);
            return t == null ? null : t.getValueNode();
        }

        boolean has(String key) {
            return byKey.containsKey(key);
        }

        String keyPath(String key) {
            return join(path, key);
        }

        /** A default stands where the key would be: cite the enclosing mapping. */
        void defaulted(String key) {
            positions.putIfAbsent(keyPath(key), at);
        }
    }

    private static String unknownKey(String name, List<String> known) {
        if (name.equals("<<")) return "merge keys (<<) are not supported; write the settings out";
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(name.toLowerCase(Locale.ROOT).replace('-', '_'), k);
            if (d < bestDistance) {
                bestDistance = d;
                best = k;
            }
        }
        if (best != null && bestDistance <= 2) return "unknown key; did you mean " + best + "?";
        for (String k : known) {
            if (name.length() >= 3 && k.startsWith(name)) return "unknown key; did you mean " + k + "?";
        }
        return "unknown key; expected one of " + String.join(", ", known);
    }

    /** Levenshtein distance, for "did you mean". */
    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
