package io.splitfed.model.tokenizer;

import io.splitfed.model.data.Example;
import io.splitfed.model.data.TokenBatch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * Turns examples into token ids (BOS when the tokenizer wants one, pairs joined by a separator,
 * truncation to {@code maxLength}) and encoded examples into right-padded micro-batches with
 * their lengths, which stand in for attention masks.
 */
public final class SequenceEncoder {

    /**
     * One example's ids. For language modelling {@code promptLength} tokens are context and the
     * rest is the target; for classification it equals the length.
     */
    public record Encoded(long sampleId, int[] ids, int label, int promptLength, int[] typeIds) {

        public Encoded(long sampleId, int[] ids, int label, int promptLength) {
            this(sampleId, ids, label, promptLength, null);
        }
    }

    private final Tokenizer tokenizer;
    private final int maxLength;
    private final String pairSeparator;

    public SequenceEncoder(Tokenizer tokenizer, int maxLength, String pairSeparator) {
        if (maxLength < 2) {
            throw new IllegalArgumentException("max sequence length must be at least 2, got " + maxLength);
        }
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
        this.pairSeparator = pairSeparator;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public int maxLength() {
        return maxLength;
    }

    /**
     * Classification input, cut to the maximum length: the tokenizer's own pair template where it
     * has one (BERT: {@code [CLS] a [SEP] b [SEP]} with token types), else {@code [BOS] text
     * [separator text_pair]}.
     */
    public Encoded encode(long sampleId, Example e) {
        Tokenizer.Input in = tokenizer.encodeInput(e.text(), e.textPair(), pairSeparator, maxLength);
        return new Encoded(sampleId, in.ids(), e.label(), in.ids().length, in.typeIds());
    }

    /** Generation input: the prompt "Question: ...\nAnswer:" then the target and EOS. */
    public Encoded encodeForLm(long sampleId, Example e) {
        int[] prompt = withBos(tokenizer.encode(prompt(e)));
        int[] target = tokenizer.encode(" " + (e.target() == null ? "" : e.target()));
        int[] ids = new int[prompt.length + target.length + 1];
        System.arraycopy(prompt, 0, ids, 0, prompt.length);
        System.arraycopy(target, 0, ids, prompt.length, target.length);
        ids[ids.length - 1] = tokenizer.eosId();
        int promptLen = Math.min(prompt.length, maxLength - 1);
        if (ids.length > maxLength) {
            ids = Arrays.copyOf(ids, maxLength);
        }
        return new Encoded(sampleId, ids, -1, promptLen);
    }

    /** The text a generation task is prompted with. */
    public static String prompt(Example e) {
        return "Question: " + e.text() + "\nAnswer:";
    }

    public int[] promptIds(Example e) {
        return withBos(tokenizer.encode(prompt(e)));
    }

    private int[] withBos(int[] ids) {
        if (!tokenizer.addsBos()) {
            return ids;
        }
        int[] out = new int[ids.length + 1];
        out[0] = tokenizer.bosId();
        System.arraycopy(ids, 0, out, 1, ids.length);
        return out;
    }

    /**
     * Batches for scoring: the rows sorted by length and cut into batches of {@code size}, so each
     * batch pads little. The rows' order is left as it was.
     */
    public static List<TokenBatch> byLength(List<Encoded> rows, int size, Function<List<Encoded>, TokenBatch> batcher) {
        List<Encoded> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparingInt(e -> e.ids().length));
        List<TokenBatch> out = new ArrayList<>();
        for (int i = 0; i < sorted.size(); i += size) {
            out.add(batcher.apply(sorted.subList(i, Math.min(sorted.size(), i + size))));
        }
        return out;
    }

    /** A classification micro-batch padded to its longest row. */
    public TokenBatch batch(List<Encoded> rows) {
        return build(rows, false);
    }

    /** A language-modelling micro-batch: targets are the next token, counted after the prompt. */
    public TokenBatch lmBatch(List<Encoded> rows) {
        return build(rows, true);
    }

    private TokenBatch build(List<Encoded> rows, boolean lm) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("empty micro-batch");
        }
        int b = rows.size();
        int t = 1;
        for (Encoded r : rows) {
            t = Math.max(t, r.ids().length);
        }
        int[] ids = new int[b * t];
        Arrays.fill(ids, tokenizer.padId());
        boolean typed = false;
        for (Encoded r : rows) {
            typed |= r.typeIds() != null;
        }
        int[] types = typed ? new int[b * t] : null;
        int[] lengths = new int[b];
        int[] labels = lm ? null : new int[b];
        int[] targets = lm ? new int[b * t] : null;
        float[] mask = lm ? new float[b * t] : null;
        long[] sampleIds = new long[b];
        for (int i = 0; i < b; i++) {
            Encoded r = rows.get(i);
            System.arraycopy(r.ids(), 0, ids, i * t, r.ids().length);
            if (r.typeIds() != null) {
                System.arraycopy(r.typeIds(), 0, types, i * t, r.typeIds().length);
            }
            lengths[i] = r.ids().length;
            sampleIds[i] = r.sampleId();
            if (lm) {
                for (int p = 0; p + 1 < r.ids().length; p++) {
                    targets[i * t + p] = r.ids()[p + 1];
                    if (p + 1 >= r.promptLength()) {
                        mask[i * t + p] = 1f;
                    }
                }
            } else {
                labels[i] = r.label();
            }
        }
        return new TokenBatch(b, t, ids, lengths, labels, targets, mask, sampleIds, types);
    }
}
