package io.quorumd.config;

import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionEndEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.DocumentStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.ScalarEvent;
import org.yaml.snakeyaml.events.SequenceStartEvent;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads {@code quorumd.yaml} into a {@link Config}, or refuses it with every problem found.
 *
 * <p>Two passes over the text, both on SnakeYAML's safe path. The first walks the parser's
 * events, which still carry what the node tree loses: whether a tag was written, each alias
 * use, a second document. The second composes the node tree (never objects), whose marks give
 * a line and column to every value; {@link ConfigBinder} then reads it against the schema.
 */
public final class ConfigLoader {
    /** SPEC: at most 50 aliases in one file (every alias, of a scalar or a collection). */
    public static final int MAX_ALIASES = 50;

    /** Far below SnakeYAML's own limit, far above the schema's four levels; reported with a position. */
    static final int MAX_DEPTH = 20;

    private static final Pattern TAG = Pattern.compile("(?:^|\\s)(![^\\s,\\[\\]{}]*)");

    private ConfigLoader() {}

    /** The config in {@code file}, defaults filled in. */
    public static Config load(Path file) throws ConfigException {
        return loadWithPositions(file).config();
    }

    /** The config and where each setting is in the file, for {@link ConfigChecker}'s messages. */
    public static LoadedConfig loadWithPositions(Path file) throws ConfigException {
        SourceText source = SourceText.read(file);
        Map<String, AliasUse> aliases = new HashMap<>();
        Node root = compose(file, source, aliases);
        return new ConfigBinder(file, source, aliases).bind(root);
    }

    /** Where an alias was written, so that a problem with its value points there, not at the anchor. */
    record AliasUse(Position position, String anchor) {}

    private static Node compose(Path file, SourceText source, Map<String, AliasUse> aliases) throws ConfigException {
        Yaml yaml = new Yaml(new SafeConstructor(options()));
        try {
            List<ConfigProblem> problems = scanEvents(file, source, yaml.parse(new StringReader(source.text())),
                    aliases);
            if (!problems.isEmpty()) throw new ConfigException(problems);
            return yaml.compose(new StringReader(source.text()));
        } catch (MarkedYAMLException e) {
            throw syntaxError(file, source, e);
        } catch (YAMLException e) {
            throw SourceText.problem(file, Position.START, "invalid YAML: " + oneLine(e.getMessage()), null);
        }
    }

    static LoaderOptions options() {
        LoaderOptions o = new LoaderOptions();
        o.setAllowDuplicateKeys(false);   // the binder reports duplicates first, with their position
        o.setMaxAliasesForCollections(MAX_ALIASES);
        o.setAllowRecursiveKeys(false);
        o.setCodePointLimit(SourceText.MAX_BYTES + 1);
        o.setMergeOnCompose(false);       // "<<" stays a key, and the binder refuses it by name
        o.setProcessComments(false);
        o.setNestingDepthLimit(2 * MAX_DEPTH);
        return o;
    }

    /** Tags, aliases beyond {@link #MAX_ALIASES} and a second document: each with its key path. */
    private static List<ConfigProblem> scanEvents(Path file, SourceText source, Iterable<Event> events,
                                                  Map<String, AliasUse> aliasUses) {
        List<ConfigProblem> problems = new ArrayList<>();
        PathTracker paths = new PathTracker();
        int aliases = 0;
        int documents = 0;
        for (Event e : events) {
            if (e instanceof DocumentStartEvent) {
                if (++documents > 1) {
                    problems.add(new ConfigProblem(file, Position.of(e.getStartMark()), "",
                            "only one YAML document is allowed in the file", oneLine(source.line(e.getStartMark().getLine() + 1).trim())));
                    break;
                }
            } else if (e instanceof ScalarEvent) {
                ScalarEvent s = (ScalarEvent) e;
                String path = paths.enter(s.getValue());
                if (s.getTag() != null) problems.add(tagProblem(file, source, e, path));
                paths.leave(s.getValue());
            } else if (e instanceof CollectionStartEvent) {
                String path = paths.enter(null);
                if (((CollectionStartEvent) e).getTag() != null) problems.add(tagProblem(file, source, e, path));
                paths.push(path, e instanceof SequenceStartEvent);
                if (paths.depth() == MAX_DEPTH + 1) {
                    problems.add(new ConfigProblem(file, Position.of(e.getStartMark()), path,
                            "nested more than " + MAX_DEPTH + " levels deep; a quorumd config needs four", null));
                    break;
                }
            } else if (e instanceof CollectionEndEvent) {
                paths.pop();
                paths.leave(null);
            } else if (e instanceof AliasEvent) {
                String path = paths.enter(null);
                aliasUses.putIfAbsent(path, new AliasUse(Position.of(e.getStartMark()), ((AliasEvent) e).getAnchor()));
                if (++aliases == MAX_ALIASES + 1) {
                    problems.add(new ConfigProblem(file, Position.of(e.getStartMark()), path,
                            "too many aliases: at most " + MAX_ALIASES + " are allowed in one file",
                            "*" + ((AliasEvent) e).getAnchor()));
                }
                paths.leave(null);
            }
        }
        return problems;
    }

    private static ConfigProblem tagProblem(Path file, SourceText source, Event e, String path) {
        Mark start = e.getStartMark();
        String written = source.slice(start.getIndex(), start.getIndex() + 200);
        Matcher m = TAG.matcher(written);
        String tag = m.find() ? m.group(1) : ((e instanceof ScalarEvent) ? ((ScalarEvent) e).getTag()
                : ((CollectionStartEvent) e).getTag());
        return new ConfigProblem(file, Position.of(start), path,
                "YAML tags are not allowed; write the plain value without " + tag, tag);
    }

    private static ConfigException syntaxError(Path file, SourceText source, MarkedYAMLException e) {
        Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
        Position at = mark != null ? Position.of(mark) : Position.START;
        String what = "invalid YAML: " + oneLine(e.getProblem() != null ? e.getProblem() : e.getMessage());
        if (e.getContext() != null) {
            what += " (" + oneLine(e.getContext());
            Mark cm = e.getContextMark();
            if (cm != null && mark != null && (cm.getLine() != mark.getLine() || cm.getColumn() != mark.getColumn()))
                what += " at " + Position.of(cm);
            what += ")";
        }
        String line = mark != null ? source.line(mark.getLine() + 1).trim() : "";
        return new ConfigException(List.of(new ConfigProblem(file, at, "", what, line.isEmpty() ? null : ValueReader.clip(line))));
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace("\r", " ").replace("\n", " ").trim();
    }

    /**
     * Follows the event stream to name each node by key path, as the binder names it: a
     * mapping alternates key and value, a sequence counts its items.
     */
    private static final class PathTracker {
        private static final class Frame {
            final String path;
            final boolean sequence;
            int index = -1;
            boolean expectKey = true;
            String key = "?";

            Frame(String path, boolean sequence) {
                this.path = path;
                this.sequence = sequence;
            }
        }

        private final Deque<Frame> stack = new ArrayDeque<>();

        /** The path of the node that starts now; {@code scalarValue} names a key being written. */
        String enter(String scalarValue) {
            Frame f = stack.peek();
            if (f == null) return "";
            if (f.sequence) return ValueReader.item(f.path, ++f.index);
            if (f.expectKey) return ValueReader.join(f.path, scalarValue != null ? scalarValue : "?");
            return ValueReader.join(f.path, f.key);
        }

        /** The node that {@link #enter} named is complete. */
        void leave(String scalarValue) {
            Frame f = stack.peek();
            if (f == null || f.sequence) return;
            if (f.expectKey) {
                f.key = scalarValue != null ? scalarValue : "?";
                f.expectKey = false;
            } else {
                f.expectKey = true;
            }
        }

        void push(String path, boolean sequence) {
            stack.push(new Frame(path, sequence));
        }

        void pop() {
            stack.pop();
        }

        int depth() {
            return stack.size();
        }
    }
}
