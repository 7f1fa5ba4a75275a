package io.splitfed.model.tokenizer;

/** Text to token ids and back. Special tokens are never parsed out of text. */
public interface Tokenizer {

    /** Ids of {@code text}, with no BOS or EOS added. */
    int[] encode(String text);

    String decode(int[] ids);

    int vocabSize();

    /** The beginning-of-sequence id, or -1 when the model uses none. */
    int bosId();

    int eosId();

    /** The id used to pad batches; padded positions are masked, so any valid id works. */
    int padId();

    /** True when sequences should start with {@link #bosId()} (Llama), false for GPT-2. */
    boolean addsBos();

    /** A model's input: its token ids, special tokens included, and BERT's token types (null when all 0). */
    record Input(int[] ids, int[] typeIds) {}

    /**
     * A classification input: {@code [BOS] text [separator pair]}, cut to {@code maxLength}.
     * Tokenizers with a pair template of their own (BERT's) override this.
     */
    default Input encodeInput(String text, String pair, String pairSeparator, int maxLength) {
        int[] body = encode(pair == null ? text : text + pairSeparator + pair);
        int[] ids = body;
        if (addsBos()) {
            ids = new int[body.length + 1];
            ids[0] = bosId();
            System.arraycopy(body, 0, ids, 1, body.length);
        }
        if (ids.length == 0) {
            ids = new int[] {padId()};
        }
        return new Input(ids.length > maxLength ? java.util.Arrays.copyOf(ids, maxLength) : ids, null);
    }
}
