package io.splitfed.runtime.node;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;

import org.slf4j.LoggerFactory;

/**
 * Remembers the first TLS handshake failure Pekko logs while a node joins, so that a node the
 * cluster refused is told why ({@code bad_certificate}, {@code unknown_ca}, an expired certificate),
 * not only that nobody answered. Watches the root logger from {@link #watch} to {@link #close}.
 */
final class HandshakeFailures extends AppenderBase<ILoggingEvent> implements AutoCloseable {

    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private volatile String first;

    private HandshakeFailures() {}

    static HandshakeFailures watch() {
        HandshakeFailures f = new HandshakeFailures();
        f.setContext(f.root.getLoggerContext());
        f.start();
        f.root.addAppender(f);
        return f;
    }

    /** The first handshake failure's reason, or null when none was logged. */
    String first() {
        return first;
    }

    @Override
    protected void append(ILoggingEvent e) {
        if (first != null) {
            return;
        }
        String text = e.getFormattedMessage();
        for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
            if (t.getClassName().startsWith("javax.net.ssl.")) {
                first = t.getClassName().substring("javax.net.ssl.".length()) + ": " + t.getMessage();
                return;
            }
        }
        if (text != null && (text.contains("SSLHandshakeException") || text.contains("SSLException"))) {
            first = text.length() > 300 ? text.substring(0, 300) + "..." : text;
        }
    }

    @Override
    public void close() {
        root.detachAppender(this);
        stop();
    }
}
