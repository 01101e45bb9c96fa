package dev.strata.testing;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * Prints every test that did not run, with its reason, on the console when a module's tests end:
 * surefire only counts them ("Skipped: 1") and keeps the reasons in its XML reports. Disabled tests
 * and tests whose assumptions failed (a test that needs root, a kernel feature or a Docker engine
 * says so and stops) are both listed. JUnit finds this listener through META-INF/services on every
 * module's test class path (the common module's test-jar), under surefire and in the VM stage.
 */
public final class SkipReporter implements TestExecutionListener {
    private final List<String> skipped = new ArrayList<>();

    @Override
    public synchronized void executionSkipped(TestIdentifier test, String reason) {
        skipped.add(name(test) + ": " + reason);
    }

    @Override
    public synchronized void executionFinished(TestIdentifier test, TestExecutionResult result) {
        if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
            skipped.add(name(test) + ": " + result.getThrowable().map(SkipReporter::reason).orElse("aborted"));
        }
    }

    @Override
    public synchronized void testPlanExecutionFinished(TestPlan plan) {
        if (skipped.isEmpty()) {
            return;
        }
        PrintStream out = System.out;
        out.println("[SKIPPED] " + skipped.size() + (skipped.size() == 1 ? " test" : " tests")
                + " did not run, with the reason each gave:");
        skipped.forEach(line -> out.println("[SKIPPED]   " + line));
        out.flush();
        skipped.clear();
    }

    /** Class#method for a test, the class for a whole class, else JUnit's display name. */
    static String name(TestIdentifier test) {
        TestSource source = test.getSource().orElse(null);
        if (source instanceof MethodSource m) {
            String display = test.getDisplayName();
            String method = display.startsWith(m.getMethodName() + "(") ? m.getMethodName() : display;
            return m.getClassName() + "#" + method;
        }
        if (source instanceof ClassSource c) {
            return c.getClassName();
        }
        return test.getDisplayName();
    }

    private static String reason(Throwable t) {
        String message = t.getMessage();
        // "Assumption failed: needs root" -> "needs root"
        return message == null ? t.getClass().getSimpleName() : message.replaceFirst("^Assumption failed: ", "");
    }
}
