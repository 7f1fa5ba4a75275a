package io.splitfed.model.lora;

/** One adapted projection: its module path (as in the Hugging Face model) and its widths. */
public record LoraModule(String path, int inFeatures, int outFeatures) {

    public String keyA() {
        return path + ".lora_A.weight";
    }

    public String keyB() {
        return path + ".lora_B.weight";
    }
}
