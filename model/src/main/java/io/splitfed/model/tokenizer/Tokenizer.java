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
}
