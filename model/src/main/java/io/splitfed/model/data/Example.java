package io.splitfed.model.data;

/**
 * One labelled example.
 *
 * @param text the sentence (or the first of a pair, or a question)
 * @param textPair the second sentence of a pair task, or null
 * @param label the class index, or -1 for generation tasks
 * @param target the text to generate (GSM8K's worked answer), or null
 * @param answer the short final answer to match exactly (GSM8K's number after "####"), or null
 */
public record Example(String text, String textPair, int label, String target, String answer) {

    public static Example single(String text, int label) {
        return new Example(text, null, label, null, null);
    }

    public static Example pair(String a, String b, int label) {
        return new Example(a, b, label, null, null);
    }
}
