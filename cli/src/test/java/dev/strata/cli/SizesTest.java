package dev.strata.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {
    @ParameterizedTest
    @CsvSource({
        "1Gi, 1073741824", "512Mi, 536870912", "10G, 10000000000", "100M, 100000000", "4096, 4096",
        "1Ti, 1099511627776", "1Ki, 1024", "1k, 1000", "1K, 1000", "1.5Gi, 1610612736", "0, 0", "1Ei, 1152921504606846976"
    })
    void parses(String text, long bytes) {
        assertEquals(bytes, Sizes.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Gi", "-1", "1gi", "1m", "1ki", "1 Gi x", "1.0000001Ki", "8Ei", "1Qi", "abc"})
    void refuses(String text) {
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse(text));
    }

    @ParameterizedTest
    @CsvSource({"0, 0B", "1023, 1023B", "1024, 1Ki", "1536, 1.5Ki", "1073741824, 1Gi", "1099511627776, 1Ti",
        "2147483648, 2Gi"})
    void human(long bytes, String text) {
        assertEquals(text, Sizes.human(bytes));
    }
}
