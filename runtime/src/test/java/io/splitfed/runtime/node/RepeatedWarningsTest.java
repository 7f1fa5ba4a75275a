package io.splitfed.runtime.node;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

/** A repeated warning logs its burst per window and then a count of what was dropped; other lines pass. */
class RepeatedWarningsTest {

    private final AtomicLong now = new AtomicLong();
    private final ListAppender<ILoggingEvent> appended = new ListAppender<>();
    private Logger decoder;
    private Logger ours;

    @BeforeEach
    void setUp() {
        LoggerContext context = new LoggerContext();
        RepeatedWarnings filter = new RepeatedWarnings(now::get);
        filter.setBurst(3);
        filter.setWindowSeconds(60);
        filter.setKinds(4);
        filter.setContext(context);
        filter.start();
        context.addTurboFilter(filter);
        appended.setContext(context);
        appended.start();
        context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(appended);
        decoder = context.getLogger("org.apache.pekko.remote.artery.Decoder");
        ours = context.getLogger("io.splitfed.actors.coordinator.RoundCycle");
    }

    @Test
    void aWarningRepeatedWithOtherNumbersIsOneKindAndLogsItsBurstThenACount() {
        for (int i = 0; i < 10_000; i++) {
            decoder.warn("Dropping message due to: Incompatible protocol version [" + (i % 128) + "]");
            ours.info("round {} closed", i); // information passes, however often
        }
        assertThat(appended.list.stream().filter(e -> e.getLoggerName().contains("Decoder"))).hasSize(3);
        assertThat(appended.list.stream().filter(e -> e.getLoggerName().contains("RoundCycle"))).hasSize(10_000);

        now.addAndGet(61_000_000_000L); // the next window
        decoder.warn("Dropping message due to: Incompatible protocol version [7]");
        var decoderLines = appended.list.stream().filter(e -> e.getLoggerName().contains("Decoder")).map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(decoderLines).hasSize(5);
        assertThat(decoderLines.get(3)).isEqualTo("9997 more warnings like the next were not logged (at most 3 per 60 s)");
        assertThat(decoderLines.get(4)).endsWith("[7]");
    }

    @Test
    void kindsAreCountedApartAndRandomTextCannotGrowTheFilter() {
        for (int i = 0; i < 5; i++) {
            decoder.warn("handshake failed");
            ours.warn("device {} refused: {}", i, "bad shape");
        }
        assertThat(appended.list).hasSize(6); // 3 of each kind

        // more kinds than remembered: the oldest are forgotten, each new kind logs
        for (int i = 0; i < 100; i++) {
            decoder.warn("garbage " + Character.toString('a' + i % 26) + Character.toString('a' + i / 26));
        }
        assertThat(appended.list).hasSize(106);
        decoder.warn("handshake failed"); // forgotten, so it starts again: logged, with nothing counted as dropped before it
        assertThat(appended.list).hasSize(107);
        assertThat(appended.list.get(106).getFormattedMessage()).isEqualTo("handshake failed");
    }
}
