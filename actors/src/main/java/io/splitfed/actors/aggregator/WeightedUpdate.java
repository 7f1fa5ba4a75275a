package io.splitfed.actors.aggregator;

import io.splitfed.model.lora.LoraAdapter;

/** An adapter from one device (or server replica) and its weight: the samples it trained on. */
public record WeightedUpdate(int source, LoraAdapter adapter, double weight) {}
