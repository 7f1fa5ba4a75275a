package io.splitfed.model.io;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.tensor.HostTensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * llama2.c's legacy {@code .bin}: seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size, seq_len), then fp32 weights in a fixed order. A negative vocab size means the
 * classifier is not shared with the embedding. The query and key projections are permuted on load
 * from llama2.c's interleaved rotary pairs to Hugging Face's half-split layout, so one Llama
 * implementation serves both sources.
 */
public final class Llama2cCheckpoint {

    private static final int HEADER_BYTES = 7 * 4;
    private static final int VERSIONED_MAGIC = 0x616b3432;

    private Llama2cCheckpoint() {}

    /** Reads the header and all weights, in Hugging Face names and layout. */
    public static LoadedWeights load(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < HEADER_BYTES) {
                throw new CheckpointFormatException(file, "file is " + size + " bytes, shorter than the 28-byte llama2.c header");
            }
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
            map.order(ByteOrder.LITTLE_ENDIAN);
            int first = map.getInt(0);
            if (first == VERSIONED_MAGIC) {
                throw new CheckpointFormatException(
                        file, "is a versioned llama2.c export (magic 'ak42'); only the legacy export (header of 7 int32) is supported");
            }
            int dim = map.getInt(0);
            int hidden = map.getInt(4);
            int layers = map.getInt(8);
            int heads = map.getInt(12);
            int kvHeads = map.getInt(16);
            int vocabField = map.getInt(20);
            int seqLen = map.getInt(24);
            String header = "header {dim=" + dim + ", hidden_dim=" + hidden + ", n_layers=" + layers + ", n_heads=" + heads
                    + ", n_kv_heads=" + kvHeads + ", vocab_size=" + vocabField + ", seq_len=" + seqLen + "}";
            if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || seqLen <= 0 || vocabField == 0
                    || dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0) {
                throw new CheckpointFormatException(file, header + " does not describe a Llama model");
            }
            boolean shared = vocabField > 0;
            int vocab = Math.abs(vocabField);
            int hs = dim / heads;
            int kvDim = kvHeads * hs;
            long floats = (long) vocab * dim + (long) layers * dim
                    + (long) layers * dim * dim + 2L * layers * dim * kvDim + (long) layers * dim * dim
                    + (long) layers * dim + 3L * layers * dim * hidden + dim
                    + (long) seqLen * hs; // freq_cis_real + freq_cis_imag, seq_len * head_size / 2 each
            if (!shared) {
                floats += (long) vocab * dim;
            }
            long expected = HEADER_BYTES + 4 * floats;
            if (size != expected) {
                throw new CheckpointFormatException(
                        file, header + " needs exactly " + expected + " bytes (" + floats + " fp32 weights), but the file has " + size + " bytes");
            }
            map.position(HEADER_BYTES);
            FloatBuffer w = map.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            HostTensor emb = take(w, vocab, dim);
            HostTensor[] rmsAtt = takeLayers(w, layers, dim);
            HostTensor[] wq = takeLayers(w, layers, dim, dim);
            HostTensor[] wk = takeLayers(w, layers, kvDim, dim);
            HostTensor[] wv = takeLayers(w, layers, kvDim, dim);
            HostTensor[] wo = takeLayers(w, layers, dim, dim);
            HostTensor[] rmsFfn = takeLayers(w, layers, dim);
            HostTensor[] w1 = takeLayers(w, layers, hidden, dim);
            HostTensor[] w2 = takeLayers(w, layers, dim, hidden);
            HostTensor[] w3 = takeLayers(w, layers, hidden, dim);
            HostTensor rmsFinal = take(w, dim);
            w.position(w.position() + seqLen * hs);
            HostTensor cls = shared ? null : take(w, vocab, dim);

            Map<String, HostTensor> t = new LinkedHashMap<>();
            t.put("model.embed_tokens.weight", emb);
            for (int l = 0; l < layers; l++) {
                String p = "model.layers." + l + ".";
                t.put(p + "input_layernorm.weight", rmsAtt[l]);
                t.put(p + "self_attn.q_proj.weight", RotaryLayout.interleavedToHalves(wq[l], heads));
                t.put(p + "self_attn.k_proj.weight", RotaryLayout.interleavedToHalves(wk[l], kvHeads));
                t.put(p + "self_attn.v_proj.weight", wv[l]);
                t.put(p + "self_attn.o_proj.weight", wo[l]);
                t.put(p + "post_attention_layernorm.weight", rmsFfn[l]);
                t.put(p + "mlp.gate_proj.weight", w1[l]);
                t.put(p + "mlp.down_proj.weight", w2[l]);
                t.put(p + "mlp.up_proj.weight", w3[l]);
            }
            t.put("model.norm.weight", rmsFinal);
            if (cls != null) {
                t.put("lm_head.weight", cls);
            }
            ModelConfig config = ModelConfig.llama(vocab, dim, hidden, layers, heads, kvHeads, seqLen, shared);
            return new LoadedWeights(file, config, t);
        } catch (NoSuchFileException e) {
            throw new CheckpointFormatException(file, "no such file");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static HostTensor take(FloatBuffer w, int... shape) {
        float[] data = new float[Math.toIntExact(HostTensor.numel(shape))];
        w.get(data);
        return new HostTensor(shape, data);
    }

    private static HostTensor[] takeLayers(FloatBuffer w, int layers, int... shape) {
        HostTensor[] out = new HostTensor[layers];
        for (int l = 0; l < layers; l++) {
            out[l] = take(w, shape);
        }
        return out;
    }
}
