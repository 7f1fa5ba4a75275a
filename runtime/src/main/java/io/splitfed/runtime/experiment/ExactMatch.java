package io.splitfed.runtime.experiment;

import io.splitfed.actors.coordinator.JobResult;
import io.splitfed.actors.job.PreparedJob;
import io.splitfed.model.data.Example;
import io.splitfed.model.generate.TextGenerator;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraWeights;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tokenizer.Tokenizer;
import io.splitfed.runtime.job.JobRunner.AfterJob;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GSM8K's score: greedy-decode an answer to each held-out question with the trained adapters and
 * count the answers whose final number (after "####", else the last number written) equals the
 * reference's.
 */
public final class ExactMatch {

    private static final Pattern MARKED = Pattern.compile("####\\s*(-?[\\d,]*\\.?\\d+)");
    private static final Pattern NUMBER = Pattern.compile("-?[\\d,]*\\.?\\d+");

    private ExactMatch() {}

    /** An {@link AfterJob} scoring the first {@code questions} held-out examples. */
    public static AfterJob of(int questions, int maxNewTokens) {
        return (job, result) -> score(job, result, questions, maxNewTokens);
    }

    static Map<String, Double> score(PreparedJob job, JobResult result, int questions, int maxNewTokens) throws Exception {
        LoraAdapter adapter = result.wholeAdapter();
        List<Example> held = job.evalExamples().stream().filter(e -> e.answer() != null).limit(questions).toList();
        Tokenizer tok = job.encoder().tokenizer();
        int window = job.model().config().maxPositions();
        int correct = TensorExecutor.shared().call(() -> {
            LoraWeights w = adapter == null ? null : LoraWeights.materialize(TensorExecutor.shared().rootManager(), adapter, LoraWeights.Mode.INFERENCE);
            try {
                TextGenerator gen = new TextGenerator(job.model(), w);
                int n = 0;
                for (Example e : held) {
                    int[] prompt = job.encoder().promptIds(e);
                    int room = Math.min(maxNewTokens, window - prompt.length);
                    if (room <= 0) {
                        continue; // the question alone fills the model's context: counted wrong
                    }
                    int[] out = gen.generate(prompt, room, tok.eosId());
                    int[] answer = Arrays.copyOfRange(out, prompt.length, out.length);
                    if (matches(tok.decode(answer), e.answer())) {
                        n++;
                    }
                }
                return n;
            } finally {
                if (w != null) {
                    w.release();
                }
            }
        });
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("exactMatch", held.isEmpty() ? Double.NaN : (double) correct / held.size());
        m.put("exactMatchQuestions", (double) held.size());
        return m;
    }

    /** Whether {@code generated}'s final answer is {@code reference}, as numbers. */
    static boolean matches(String generated, String reference) {
        String got = finalNumber(generated);
        return got != null && normalise(got).equals(normalise(reference));
    }

    static String finalNumber(String text) {
        Matcher marked = MARKED.matcher(text);
        if (marked.find()) {
            return marked.group(1);
        }
        Matcher any = NUMBER.matcher(text);
        String last = null;
        while (any.find()) {
            last = any.group();
        }
        return last;
    }

    static String normalise(String number) {
        String n = number.replace(",", "").trim();
        try {
            return new java.math.BigDecimal(n).stripTrailingZeros().toPlainString();
        } catch (NumberFormatException e) {
            return n;
        }
    }
}
