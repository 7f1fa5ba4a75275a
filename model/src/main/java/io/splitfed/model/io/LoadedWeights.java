package io.splitfed.model.io;

import io.splitfed.model.config.ModelConfig;
import io.splitfed.model.tensor.HostTensor;

import java.nio.file.Path;
import java.util.Map;

/**
 * A checkpoint read into host memory: its config and its tensors under Hugging Face names, with
 * every linear weight as (out, in) the way {@code torch.nn.Linear} keeps it.
 */
public record LoadedWeights(Path source, ModelConfig config, Map<String, HostTensor> tensors) {}
