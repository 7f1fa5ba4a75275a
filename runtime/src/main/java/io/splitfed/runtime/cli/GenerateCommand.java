package io.splitfed.runtime.cli;

import io.splitfed.model.generate.TextGenerator;
import io.splitfed.model.io.CheckpointLoader;
import io.splitfed.model.io.LoadedWeights;
import io.splitfed.model.lora.AdapterFit;
import io.splitfed.model.lora.LoraAdapter;
import io.splitfed.model.lora.LoraWeights;
import io.splitfed.model.lora.PeftAdapterFormat;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.tensor.TensorExecutor;
import io.splitfed.model.tokenizer.Tokenizer;
import io.splitfed.model.tokenizer.Tokenizers;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** Decodes from a checkpoint: the sanity check any user of a model library runs first. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt with a GPT-2 or Llama checkpoint (Hugging Face directory or llama2.c .bin).")
public final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Model: a Hugging Face directory, a .safetensors file, or a llama2.c .bin")
    Path model;

    @Option(names = "--tokenizer", description = "Tokenizer: llama2.c .bin, tokenizer.json, or a directory with vocab.json + merges.txt (default: beside the model, or GPT-2's BPE)")
    Path tokenizer;

    @Option(names = "--adapter", description = "A PEFT LoRA adapter directory to apply")
    Path adapter;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Prompt prompt;

    static final class Prompt {
        @Option(names = "--prompt", description = "Prompt text (a BOS token is added for Llama)")
        String text;

        @Option(names = "--prompt-ids", split = ",", description = "Prompt as comma-separated token ids, used as given")
        int[] ids;
    }

    @Option(names = "--max-new-tokens", defaultValue = "64", description = "Tokens to generate (default: ${DEFAULT-VALUE})")
    int maxNewTokens;

    @Option(names = "--greedy", description = "Arg-max decoding (otherwise sample with --temperature and --top-k)")
    boolean greedy;

    @Option(names = "--temperature", defaultValue = "0.8")
    double temperature;

    @Option(names = "--top-k", defaultValue = "40")
    int topK;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--no-stop", description = "Keep going past end-of-sequence")
    boolean noStop;

    @Option(names = "--print-ids", description = "End with one line of all ids, prompt included, comma-separated")
    boolean printIds;

    @Override
    public Integer call() {
        LoadedWeights weights = CheckpointLoader.load(model);
        if (!weights.config().family().isDecoder()) {
            throw new UserError(model + ": a BERT encoder classifies and cannot generate text; generate takes a GPT-2 or Llama checkpoint");
        }
        Tokenizer tok = Tokenizers.load(tokenizer, model, weights.config());
        int[] promptIds;
        if (prompt.ids != null) {
            promptIds = prompt.ids;
        } else {
            int[] text = tok.encode(prompt.text);
            promptIds = tok.addsBos() ? prepend(tok.bosId(), text) : text;
        }
        for (int id : promptIds) {
            if (id < 0 || id >= weights.config().vocabSize()) {
                throw new UserError("prompt id " + id + " is outside the model's vocabulary of " + weights.config().vocabSize());
            }
        }
        LoraAdapter lora = adapter == null ? null : PeftAdapterFormat.load(adapter);
        TextGenerator.Strategy strategy = greedy ? TextGenerator.Strategy.greedyDecoding() : TextGenerator.Strategy.sampling(temperature, topK, seed);
        int eos = noStop ? -1 : tok.eosId();
        int[] out = TensorExecutor.shared().call(() -> {
            try (TransformerModel m = TransformerModel.create(weights)) {
                if (lora != null) {
                    AdapterFit.check(adapter, lora, m.loraModules(0, m.numLayers(), AdapterFit.allTargets()),
                            new io.splitfed.model.head.CausalLmHead().trainableTensors(weights.config()), weights.config(), model.toString());
                }
                LoraWeights w = lora == null ? null : LoraWeights.materialize(TensorExecutor.shared().rootManager(), lora, LoraWeights.Mode.INFERENCE);
                try {
                    return new TextGenerator(m, w).generate(promptIds, maxNewTokens, eos, strategy);
                } finally {
                    if (w != null) {
                        w.release();
                    }
                }
            }
        });
        System.out.println(tok.decode(out));
        if (printIds) {
            System.out.println(Arrays.stream(out).mapToObj(Integer::toString).collect(Collectors.joining(",")));
        }
        return 0;
    }

    private static int[] prepend(int first, int[] rest) {
        int[] out = new int[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }
}
