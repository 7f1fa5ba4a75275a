package io.splitfed.model.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import io.splitfed.model.data.Dataset;
import io.splitfed.model.data.Example;
import io.splitfed.model.data.GlueTsvReader;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.io.BuiltinModels;
import io.splitfed.model.io.CheckpointLoader;
import io.splitfed.model.testing.SharedData;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

/**
 * BERT's WordPiece makes CLS/SEP pairs with token types and truncates longest-first; the encoder
 * pads, truncates and masks.
 */
class TokenizerTest {

    @Test
    void gpt2TokenizerJsonThroughHuggingFaceAgreesWithJtokkitOnSst2() {
        Tokenizer json = Tokenizers.fromPath(SharedData.path("gpt2_tokenizer/tokenizer.json"));
        assertThat(json).isInstanceOf(HfTokenizer.class);
        Tokenizer builtIn = new TiktokenGpt2Tokenizer();
        assertThat(json.vocabSize()).isEqualTo(builtIn.vocabSize());
        assertThat(json.eosId()).isEqualTo(50256);
        assertThat(json.addsBos()).isFalse();
        Dataset sst = GlueTsvReader.read(SharedData.sst2());
        for (int i = 0; i < 2000; i += 1) {
            String text = sst.examples().get(i * 31).text();
            int[] expected = builtIn.encode(text);
            assertThat(json.encode(text)).as(text).containsExactly(expected);
            assertThat(json.decode(expected)).isEqualTo(text);
        }
        String unicode = "Ünïcödé — “quotes” 日本語 emoji 🙂 and  double  spaces\n";
        assertThat(json.encode(unicode)).containsExactly(builtIn.encode(unicode));
        assertThat(json.decode(json.encode(unicode))).isEqualTo(unicode);
        // GPT-2's tokenizer has no pair template: pairs are joined by the separator, with no type ids
        Tokenizer.Input pair = json.encodeInput("first", "second", "\n", 64);
        assertThat(pair.ids()).containsExactly(builtIn.encode("first\nsecond"));
        assertThat(pair.typeIds()).isNull();
    }

    @Test
    void bertWordPieceMakesClsSepPairsWithTokenTypesAndTruncatesLongestFirst() {
        Path minilm = Path.of(BuiltinModels.MINILM);
        Tokenizer tok = Tokenizers.load(null, minilm, CheckpointLoader.load(minilm).config());
        assertThat(tok.vocabSize()).isEqualTo(30522);
        assertThat(tok.padId()).isEqualTo(0);
        // uncased WordPiece: [CLS]=101, [SEP]=102; "hello" is 7592, "world" 2088
        Tokenizer.Input single = tok.encodeInput("Hello world", null, "\n", 64);
        assertThat(single.ids()).containsExactly(101, 7592, 2088, 102);
        assertThat(single.typeIds()).isNull();
        Tokenizer.Input pair = tok.encodeInput("Hello", "world", "\n", 64);
        assertThat(pair.ids()).containsExactly(101, 7592, 102, 2088, 102);
        assertThat(pair.typeIds()).containsExactly(0, 0, 0, 1, 1);
        Tokenizer.Input cut = tok.encodeInput("one two three four five six seven eight", "nine ten", "\n", 8);
        assertThat(cut.ids()).hasSize(8);
        assertThat(cut.ids()[7]).isEqualTo(102); // the last [SEP] survives truncation
        assertThat(cut.typeIds()).endsWith(1, 1, 1);
        SequenceEncoder enc = new SequenceEncoder(tok, 16, "\n");
        TokenBatch b = enc.batch(List.of(enc.encode(0, Example.single("hello", 0)), enc.encode(1, Example.pair("hello", "world", 1))));
        assertThat(b.tokenTypes()).containsExactly(0, 0, 0, 0, 0, 0, 0, 0, 1, 1);
    }

    @Test
    void llama2cTokenizerRoundTripsAndMergesIntoKnownPieces() {
        Llama2cTokenizer tok = Llama2cTokenizer.load(SharedData.stories260kTokenizer());
        assertThat(tok.vocabSize()).isEqualTo(512);
        String text = "Once upon a time, there was a little girl named Lily.";
        int[] ids = tok.encode(text);
        assertThat(ids.length).isLessThan(text.length() / 2);
        int[] withBos = new int[ids.length + 1];
        withBos[0] = tok.bosId();
        System.arraycopy(ids, 0, withBos, 1, ids.length);
        assertThat(tok.decode(withBos)).isEqualTo(text);
        // characters outside the vocabulary fall back to bytes and still round-trip
        String rare = "naïve café ✓";
        int[] rareIds = tok.encode(rare);
        int[] rareBos = new int[rareIds.length + 1];
        rareBos[0] = 1;
        System.arraycopy(rareIds, 0, rareBos, 1, rareIds.length);
        assertThat(tok.decode(rareBos)).isEqualTo(rare);
    }

    @Test
    void encoderPadsTruncatesAndMasks() {
        SequenceEncoder enc = new SequenceEncoder(Llama2cTokenizer.load(SharedData.stories260kTokenizer()), 8, "\n");
        SequenceEncoder.Encoded shortOne = enc.encode(0, Example.single("hi", 1));
        SequenceEncoder.Encoded longOne = enc.encode(1, Example.pair("a very long first sentence indeed", "and a second", 0));
        assertThat(shortOne.ids()[0]).isEqualTo(1);
        assertThat(longOne.ids()).hasSize(8);
        TokenBatch b = enc.batch(List.of(shortOne, longOne));
        assertThat(b.seqLen()).isEqualTo(8);
        assertThat(b.lengths()).containsExactly(shortOne.ids().length, 8);
        assertThat(b.ids()[shortOne.ids().length]).isEqualTo(0);
        assertThat(b.labels()).containsExactly(1, 0);

        SequenceEncoder lmEnc = new SequenceEncoder(Llama2cTokenizer.load(SharedData.stories260kTokenizer()), 64, "\n");
        SequenceEncoder.Encoded lm = lmEnc.encodeForLm(3, new Example("What is 1+1?", null, -1, "1+1=2 #### 2", "2"));
        TokenBatch lb = lmEnc.lmBatch(List.of(lm));
        int counted = 0;
        for (int p = 0; p < lb.seqLen(); p++) {
            if (lb.lossMask()[p] > 0) {
                counted++;
                assertThat(p + 1).isGreaterThanOrEqualTo(lm.promptLength());
                assertThat(lb.targets()[p]).isEqualTo(lm.ids()[p + 1]);
            }
        }
        assertThat(counted).isEqualTo(lm.ids().length - lm.promptLength());
    }
}
