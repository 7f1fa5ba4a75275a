package io.splitfed.model.head;

import ai.djl.ndarray.NDArray;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.data.TokenBatch;
import io.splitfed.model.nn.TransformerModel;
import io.splitfed.model.nn.ForwardPass;

import java.util.Map;

/** What sits on top of the last block: the final norm, an output layer and a loss. */
public interface TaskHead {

    /** Fully trained tensors the head adds to the server-side adapter (PEFT's modules_to_save). */
    Map<String, int[]> trainableTensors(ModelConfig config);

    /** Loss and logits for {@code hidden} (batch, T, d), the output of the last block. */
    HeadOutput apply(ForwardPass pass, TransformerModel model, NDArray hidden, TokenBatch batch);

    /** "SEQ_CLS" or "CAUSAL_LM", as PEFT's task_type. */
    String peftTaskType();
}
