package dev.strata.driver;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * Logback configured in code, found through the ServiceLoader before any XML file is looked for:
 * parsing a logback.xml loads an XML parser and its configuration framework, several hundred classes
 * that stay resident for the life of the process. One line per event on stderr; the level comes from
 * {@code -Dstrata.log.level} or {@code STRATA_LOG_LEVEL} (default INFO).
 */
public final class LogSetup extends ContextAwareBase implements Configurator {
    /** Held, so that its level stays set (java.util.logging keeps only weak references to loggers). */
    private static final java.util.logging.Logger GRPC_STREAMS =
            java.util.logging.Logger.getLogger("io.grpc.netty.NettyServerStream");

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        // A message carries values callers sent; a line break among them would forge a log line.
        // They are escaped where they are logged; this catches any that slip through (an exception's
        // message, say). Stack traces (%ex, after the message) keep their lines.
        encoder.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{20} "
                + "%replace(%msg){'[\\r\\n]', '\\\\n'}%n");
        encoder.start();
        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(level(), Level.INFO));
        root.addAppender(stderr);
        // gRPC asks every accepted channel for SO_KEEPALIVE, which a Unix socket does not have.
        context.getLogger("io.netty.bootstrap.ServerBootstrap").setLevel(Level.ERROR);
        // gRPC logs through java.util.logging, a stack trace each time a client sends a request too big
        // to read: the client is told (RESOURCE_EXHAUSTED) and the call log has the call; no more.
        GRPC_STREAMS.setLevel(java.util.logging.Level.SEVERE);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static String level() {
        String level = System.getProperty("strata.log.level");
        return level != null ? level : System.getenv().getOrDefault("STRATA_LOG_LEVEL", "INFO");
    }
}
