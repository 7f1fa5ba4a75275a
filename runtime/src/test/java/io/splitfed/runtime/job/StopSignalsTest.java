package io.splitfed.runtime.job;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

/**
 * The stop line's advice when the signal comes before the command reached its job (CI saw a SIGTERM
 * 0.5 s after start say only "stopped by SIGTERM"): the checkpoint directory is read off the
 * command line, and the resume command keeps every other argument.
 */
class StopSignalsTest {

    @Test
    void theCheckpointDirectoryIsReadOffTheCommandLineInEitherSpelling() {
        assertThat(StopSignals.checkpointDir(new String[] {"train", "--checkpoint-dir", "ck", "--out", "o"})).isEqualTo(Path.of("ck"));
        assertThat(StopSignals.checkpointDir(new String[] {"train", "--resume=runs/ck"})).isEqualTo(Path.of("runs/ck"));
        assertThat(StopSignals.checkpointDir(new String[] {"train", "--out", "o"})).isNull();
        assertThat(StopSignals.checkpointDir(new String[] {"train", "--checkpoint-dir"})).as("a flag with no value").isNull();
    }

    @Test
    void theResumeCommandTurnsCheckpointDirIntoResumeAndKeepsTheRest() {
        assertThat(StopSignals.resumeCommand(new String[] {"train", "--checkpoint-dir", "ck", "--out", "my out"}, Path.of("ck")))
                .isEqualTo("splitfed train --resume ck --out 'my out'");
        assertThat(StopSignals.resumeCommand(new String[] {"train", "--resume", "ck"}, Path.of("ck"))).isEqualTo("splitfed train --resume ck");
    }
}
