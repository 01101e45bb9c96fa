package dev.strata.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

/**
 * What one logger writes during a test, kept for the test's assertions instead of the console: for
 * tests whose subject is a failure that the code rightly logs as an ERROR, which a passing build
 * would otherwise print as if something had gone wrong.
 * <pre>{@code @RegisterExtension final CapturedLog log = new CapturedLog(ErrorMapper.class);}</pre>
 */
public final class CapturedLog implements BeforeEachCallback, AfterEachCallback {
    private final Logger logger;
    private ListAppender<ILoggingEvent> appender;
    private boolean additive;

    public CapturedLog(Class<?> loggerOf) {
        this.logger = (Logger) LoggerFactory.getLogger(loggerOf);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        additive = logger.isAdditive();
        logger.setAdditive(false); // not to the console
    }

    @Override
    public void afterEach(ExtensionContext context) {
        logger.detachAppender(appender);
        logger.setAdditive(additive);
    }

    /** The events logged at {@code level} so far. */
    public List<ILoggingEvent> at(Level level) {
        synchronized (appender) {
            return appender.list.stream().filter(e -> e.getLevel() == level).toList();
        }
    }
}
