package io.splitfed.model.tokenizer;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import com.knuddels.jtokkit.api.IntArrayList;

/** GPT-2's BPE as jtokkit ships it ({@code r50k_base}): no files needed. */
public final class TiktokenGpt2Tokenizer implements Tokenizer {

    private static final int EOS = 50256;
    private final Encoding encoding = Encodings.newLazyEncodingRegistry().getEncoding(EncodingType.R50K_BASE);

    @Override
    public int[] encode(String text) {
        return encoding.encodeOrdinary(text).toArray();
    }

    @Override
    public String decode(int[] ids) {
        IntArrayList list = new IntArrayList(ids.length);
        for (int id : ids) {
            list.add(id);
        }
        return encoding.decode(list);
    }

    @Override
    public int vocabSize() {
        return 50257;
    }

    @Override
    public int bosId() {
        return -1;
    }

    @Override
    public int eosId() {
        return EOS;
    }

    @Override
    public int padId() {
        return EOS;
    }

    @Override
    public boolean addsBos() {
        return false;
    }
}
