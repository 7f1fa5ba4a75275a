package io.splitfed.actors.checkpoint;

import io.splitfed.actors.device.DeviceData;
import io.splitfed.model.train.OptimizerState;

/**
 * What a device must keep across a restart at a round boundary: where it is in its data, the
 * next sequence number it sends (the shards remember what they trained by it), and its
 * optimizer's moments (null when it trains nothing). Its adapter is the global one, which the
 * next round brings.
 */
public record DeviceSnapshot(int device, int round, DeviceData.Cursor cursor, long nextSeq, OptimizerState optimizer) {}
