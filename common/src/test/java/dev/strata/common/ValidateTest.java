package dev.strata.common;

import static dev.strata.common.CsiAssertions.assertCsi;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status.Code;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ValidateTest {

    @Test
    void requiredRefusesNullAndEmpty() {
        assertEquals("x", Validate.required("f", "x"));
        assertCsi(Code.INVALID_ARGUMENT, "f: required", () -> Validate.required("f", null));
        assertCsi(Code.INVALID_ARGUMENT, "f: required", () -> Validate.required("f", ""));
    }

    @Test
    void nameAcceptsUpTo128Bytes() {
        assertEquals("a".repeat(128), Validate.name("name", "a".repeat(128)));
        assertCsi(Code.INVALID_ARGUMENT, "name: longer than 128 bytes", () -> Validate.name("name", "a".repeat(129)));
    }

    @Test
    void nameLimitCountsUtf8Bytes() {
        assertEquals(128, "é".repeat(64).getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        Validate.name("name", "é".repeat(64));
        assertCsi(Code.INVALID_ARGUMENT, "name:", () -> Validate.name("name", "é".repeat(64) + "a"));
        assertCsi(Code.INVALID_ARGUMENT, "name:", () -> Validate.name("name", "€".repeat(43))); // 129 bytes
        assertCsi(Code.INVALID_ARGUMENT, "name:", () -> Validate.name("name", ""));
    }

    @Test
    void nameRefusesEveryBannedControlCharacter() {
        int refused = 0;
        for (int c = 0; c <= 0xa0; c++) {
            boolean banned = c <= 0x08 || c == 0x0b || c == 0x0c || (c >= 0x0e && c <= 0x1f)
                    || (c >= 0x7f && c <= 0x9f);
            String value = "pvc" + (char) c + "x";
            if (banned) {
                int cp = c;
                CsiException e = assertCsi(Code.INVALID_ARGUMENT, "name: contains a control character",
                        () -> Validate.name("name", value));
                // the offending character is shown escaped, never raw
                assertTrue(e.getMessage().contains(String.format("\\x%02x", cp)), e.getMessage());
                refused++;
            } else {
                assertEquals(value, Validate.name("name", value), "U+" + Integer.toHexString(c));
            }
        }
        assertEquals(9 + 2 + 18 + 33, refused);
    }

    @Test
    void nameAllowsTabNewlineAndUnicode() {
        for (String name : List.of("a\tb", "a\nb", "a\rb", "naïve ☃ 名前")) {
            assertEquals(name, Validate.name("name", name));
        }
    }

    @Test
    void idAcceptsPluginIds() {
        assertEquals("vol-0123abcd", Validate.id("volume_id", "vol-0123abcd"));
        Validate.id("volume_id", "A.b_c-9");
        Validate.id("volume_id", "x".repeat(128));
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", ".", "a/b", "/abs", "x\0", ".hidden", "-dash", "sp ace", "é", "a\nb"})
    void idRefusesPathsAndOddCharacters(String value) {
        CsiException e = assertCsi(Code.INVALID_ARGUMENT, "volume_id: not a valid ID",
                () -> Validate.id("volume_id", value));
        assertTrue(!e.getMessage().contains("\0"), "NUL must be escaped in the message");
    }

    @Test
    void idRefusesEmptyAndTooLong() {
        assertCsi(Code.INVALID_ARGUMENT, "volume_id: required", () -> Validate.id("volume_id", ""));
        assertCsi(Code.INVALID_ARGUMENT, "volume_id: required", () -> Validate.id("volume_id", null));
        assertCsi(Code.INVALID_ARGUMENT, "volume_id: not a valid ID",
                () -> Validate.id("volume_id", "x".repeat(129)));
    }

    @Test
    void absolutePathAccepted() {
        assertEquals(Path.of("/var/lib/kubelet/pods/x"), Validate.absolutePath("target_path", "/var/lib/kubelet/pods/x"));
        assertEquals(Path.of("/"), Validate.absolutePath("target_path", "/"));
        assertEquals(Path.of("/a/b"), Validate.absolutePath("target_path", "/a//b/"));
        assertEquals(Path.of("/a/..b/c.."), Validate.absolutePath("target_path", "/a/..b/c.."));
    }

    @ParameterizedTest
    @ValueSource(strings = {"relative/path", "relative", ".", "..", "./a", "/a/../b", "/a/./b", "/a/..", "/a/.",
            "/a\0b", "\0"})
    void absolutePathRefused(String value) {
        CsiException e = assertCsi(Code.INVALID_ARGUMENT, "staging_target_path: ",
                () -> Validate.absolutePath("staging_target_path", value));
        assertTrue(!e.getMessage().contains("\0"), e.getMessage());
    }

    @Test
    void absolutePathRefusesEmptyAndHuge() {
        assertCsi(Code.INVALID_ARGUMENT, "target_path: required", () -> Validate.absolutePath("target_path", ""));
        assertCsi(Code.INVALID_ARGUMENT, "target_path: longer than 4095 bytes",
                () -> Validate.absolutePath("target_path", "/" + "a/".repeat(2048)));
        // A component the kernel would refuse with ENAMETOOLONG is the caller's error, not an internal one.
        assertCsi(Code.INVALID_ARGUMENT, "target_path: has a path component longer than 255 bytes",
                () -> Validate.absolutePath("target_path", "/var/" + "x".repeat(300) + "/mount"));
        assertEquals(Path.of("/" + "x".repeat(255)), Validate.absolutePath("target_path", "/" + "x".repeat(255)));
    }

    @Test
    void escapeWritesControlCharactersAsHexSoNoLineCanBeForged() {
        assertEquals("a\\x0aINFO forged\\x0d\\x1b[31m", Validate.escape("a\nINFO forged\r\u001b[31m"));
        assertEquals("plain ünïcode", Validate.escape("plain ünïcode"));
        assertEquals("\"x\\x00y\"", Validate.printable("x\0y"));
    }

    @Test
    void mapLimitIs4096BytesOfKeysAndValues() {
        Map<String, String> atLimit = Map.of("k".repeat(96), "v".repeat(4000));
        assertSame(atLimit, Validate.map("parameters", atLimit));
        Map<String, String> over = new HashMap<>(atLimit);
        over.put("x", "");
        assertCsi(Code.INVALID_ARGUMENT, "parameters: larger than 4096 bytes", () -> Validate.map("parameters", over));
        Map<String, String> multiByte = Map.of("k", "é".repeat(2048)); // 1 + 4096 bytes
        assertCsi(Code.INVALID_ARGUMENT, "parameters:", () -> Validate.map("parameters", multiByte));
        assertSame(Map.of(), Validate.map("parameters", Map.of()));
    }

    @Test
    void printableQuotesAndEscapesControlCharacters() {
        assertEquals("\"plain\"", Validate.printable("plain"));
        assertEquals("\"a\\x09b\\x0ac\\x00\"", Validate.printable("a\tb\nc\0"));
        assertEquals("\"\\x7f\\x85\\x9f\u00a0é\"", Validate.printable("\u007f\u0085\u009f\u00a0é"));
        assertEquals("\"☃\"", Validate.printable("☃"));
    }

    @Test
    void printableTruncatesLongValues() {
        String shown = Validate.printable("z".repeat(1000));
        assertEquals(202, shown.length());
    }
}
