package dev.strata.node.engine.thin;

import dev.strata.common.CsiException;
import dev.strata.common.Validate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The StorageClass parameter {@code mkfsOptions}, parsed against an allowlist rather than split and
 * handed to mkfs: each flag must be one that shapes the new filesystem (block and inode sizes,
 * features, stripe geometry, a label), each value must have the shape that flag takes, and nothing
 * positional is accepted. The flags that read or write other files or devices are refused
 * (mke2fs {@code -d} populates from a host directory, {@code -c}/{@code -l} read bad-block lists,
 * {@code -J}/{@code -z} name other devices or files, {@code -S}/{@code -n} skip making the
 * filesystem, {@code -F} forces; mkfs.xfs {@code -p}, {@code -r}, {@code -d file/name},
 * {@code -l logdev}), and so is anything not listed. An admin writes StorageClasses, but a
 * mistyped or copied value must not format or read the host.
 */
final class MkfsOptions {
    private static final Pattern NUMBER = Pattern.compile("[0-9]{1,12}");
    private static final Pattern SIZE = Pattern.compile("[0-9]{1,12}[kKmMgGtTsb]?");
    private static final Pattern BOOL = Pattern.compile("[01]");
    private static final Pattern ANY_FLAG_VALUE = Pattern.compile("(=[01])?");

    /** A flag's value: a plain value of a shape, or a comma list of {@code key[=value]} items. */
    private record Rule(Pattern value, Map<String, Pattern> items, String shape) {
        static Rule plain(Pattern value, String shape) {
            return new Rule(value, null, shape);
        }

        static Rule list(Map<String, Pattern> items) {
            return new Rule(null, items, "a comma list of " + String.join(", ", new java.util.TreeSet<>(items.keySet())));
        }
    }

    private static final Map<String, Rule> EXT4 = Map.ofEntries(
            Map.entry("-b", Rule.plain(Pattern.compile("1024|2048|4096|65536"), "a block size (1024, 2048, 4096)")),
            Map.entry("-C", Rule.plain(SIZE, "a cluster size")),
            Map.entry("-e", Rule.plain(Pattern.compile("continue|remount-ro|panic"), "continue, remount-ro or panic")),
            Map.entry("-E", Rule.list(Map.ofEntries(
                    Map.entry("stride", Pattern.compile("=" + NUMBER)),
                    Map.entry("stripe_width", Pattern.compile("=" + NUMBER)),
                    Map.entry("stripe-width", Pattern.compile("=" + NUMBER)),
                    Map.entry("resize", Pattern.compile("=" + NUMBER)),
                    Map.entry("lazy_itable_init", ANY_FLAG_VALUE),
                    Map.entry("lazy_journal_init", ANY_FLAG_VALUE),
                    Map.entry("packed_meta_blocks", ANY_FLAG_VALUE),
                    Map.entry("assume_storage_prezeroed", ANY_FLAG_VALUE),
                    Map.entry("num_backup_sb", Pattern.compile("=[012]")),
                    Map.entry("root_owner", Pattern.compile("(=[0-9]{1,10}:[0-9]{1,10})?")),
                    Map.entry("discard", Pattern.compile("")),
                    Map.entry("nodiscard", Pattern.compile("")),
                    Map.entry("encoding", Pattern.compile("=utf8(-12\\.1)?")),
                    Map.entry("encoding_flags", Pattern.compile("=strict")),
                    Map.entry("quotatype", Pattern.compile("=(usrquota|grpquota|prjquota)(:(usrquota|grpquota|prjquota)){0,2}"))))),
            Map.entry("-G", Rule.plain(NUMBER, "a number of groups")),
            Map.entry("-i", Rule.plain(NUMBER, "bytes per inode")),
            Map.entry("-I", Rule.plain(NUMBER, "an inode size")),
            Map.entry("-j", Rule.plain(null, "no value")),
            Map.entry("-L", Rule.plain(Pattern.compile("[A-Za-z0-9._][A-Za-z0-9._-]{0,15}"),
                    "a label of up to 16 letters, digits, . _ - (not first)")),
            Map.entry("-m", Rule.plain(Pattern.compile("[0-9]{1,2}(\\.[0-9]{1,3})?"), "a percentage")),
            Map.entry("-N", Rule.plain(NUMBER, "a number of inodes")),
            Map.entry("-O", Rule.list(features())),
            Map.entry("-q", Rule.plain(null, "no value")),
            Map.entry("-r", Rule.plain(Pattern.compile("[01]"), "0 or 1")),
            Map.entry("-T", Rule.plain(Pattern.compile("[a-z0-9]{1,20}(,[a-z0-9]{1,20}){0,4}"), "usage types")),
            Map.entry("-U", Rule.plain(Pattern.compile("clear|random|time|[0-9a-fA-F-]{36}"), "a UUID")));

    private static final Map<String, Rule> XFS = Map.ofEntries(
            Map.entry("-b", Rule.list(Map.of("size", Pattern.compile("=" + SIZE)))),
            Map.entry("-d", Rule.list(Map.of("su", Pattern.compile("=" + SIZE), "sw", Pattern.compile("=" + NUMBER),
                    "sunit", Pattern.compile("=" + NUMBER), "swidth", Pattern.compile("=" + NUMBER),
                    "agcount", Pattern.compile("=" + NUMBER), "agsize", Pattern.compile("=" + SIZE)))),
            Map.entry("-i", Rule.list(Map.of("size", Pattern.compile("=" + SIZE), "maxpct", Pattern.compile("=" + NUMBER),
                    "align", Pattern.compile("=" + BOOL), "projid32bit", Pattern.compile("=" + BOOL),
                    "sparse", Pattern.compile("=" + BOOL), "nrext64", Pattern.compile("=" + BOOL)))),
            Map.entry("-K", Rule.plain(null, "no value")),
            Map.entry("-l", Rule.list(Map.of("size", Pattern.compile("=" + SIZE), "su", Pattern.compile("=" + SIZE),
                    "sunit", Pattern.compile("=" + NUMBER), "lazy-count", Pattern.compile("=" + BOOL),
                    "version", Pattern.compile("=2")))),
            Map.entry("-L", Rule.plain(Pattern.compile("[A-Za-z0-9._][A-Za-z0-9._-]{0,11}"),
                    "a label of up to 12 letters, digits, . _ - (not first)")),
            Map.entry("-m", Rule.list(Map.of("crc", Pattern.compile("=" + BOOL), "finobt", Pattern.compile("=" + BOOL),
                    "reflink", Pattern.compile("=" + BOOL), "bigtime", Pattern.compile("=" + BOOL),
                    "inobtcount", Pattern.compile("=" + BOOL), "rmapbt", Pattern.compile("=" + BOOL),
                    "uuid", Pattern.compile("=[0-9a-fA-F-]{36}")))),
            Map.entry("-n", Rule.list(Map.of("size", Pattern.compile("=" + SIZE), "ftype", Pattern.compile("=" + BOOL),
                    "version", Pattern.compile("=(2|ci)")))),
            Map.entry("-q", Rule.plain(null, "no value")),
            Map.entry("-s", Rule.list(Map.of("size", Pattern.compile("=" + SIZE)))));

    private MkfsOptions() {}

    /**
     * The checked arguments for mkfs of {@code fs} ("ext4" or "xfs"); INVALID_ARGUMENT naming
     * {@code field} and the offending token otherwise.
     */
    static List<String> parse(String field, String fs, String text) {
        Map<String, Rule> rules = fs.equals("xfs") ? XFS : EXT4;
        List<String> tokens = text == null ? List.of() : List.of(text.trim().split("\\s+"));
        List<String> args = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            String flag = tokens.get(i);
            if (flag.isEmpty()) {
                continue;
            }
            Rule rule = rules.get(flag);
            if (rule == null) {
                throw CsiException.invalidArgument(field, Validate.printable(flag) + " is not an option Strata passes "
                        + "to mkfs." + fs + " (allowed: " + String.join(" ", new java.util.TreeSet<>(rules.keySet()))
                        + "; nothing positional)");
            }
            args.add(flag);
            if (rule.value() == null && rule.items() == null) {
                continue;
            }
            if (++i >= tokens.size()) {
                throw CsiException.invalidArgument(field, flag + " needs a value: " + rule.shape());
            }
            String value = tokens.get(i);
            if (!(rule.items() != null ? itemsMatch(rule.items(), value) : rule.value().matcher(value).matches())) {
                throw CsiException.invalidArgument(field, flag + " " + Validate.printable(value) + ": expected "
                        + rule.shape());
            }
            args.add(value);
        }
        return args;
    }

    private static boolean itemsMatch(Map<String, Pattern> items, String value) {
        for (String item : value.split(",", -1)) {
            int eq = item.indexOf('=');
            String key = eq < 0 ? item : item.substring(0, eq);
            Pattern shape = items.get(key);
            if (shape == null || !shape.matcher(eq < 0 ? "" : item.substring(eq)).matches()) {
                return false;
            }
        }
        return true;
    }

    /** ext4 features that may be turned on or off ({@code ^name}); {@code journal_dev} is not one. */
    private static Map<String, Pattern> features() {
        Map<String, Pattern> features = new java.util.HashMap<>();
        for (String f : List.of("has_journal", "extent", "extents", "huge_file", "flex_bg", "metadata_csum", "64bit",
                "dir_nlink", "extra_isize", "quota", "project", "bigalloc", "inline_data", "encrypt", "casefold",
                "large_dir", "sparse_super", "sparse_super2", "uninit_bg", "dir_index", "filetype", "resize_inode",
                "ea_inode", "orphan_file", "stable_inodes", "verity", "large_file", "metadata_csum_seed")) {
            features.put(f, Pattern.compile(""));
            features.put("^" + f, Pattern.compile(""));
        }
        return features;
    }
}
