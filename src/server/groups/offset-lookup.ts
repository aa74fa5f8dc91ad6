// Where ResetOffsets moves a partition: earliest, latest, an explicit offset, or the first record at or
// after a timestamp (found by reading the one batch that may hold it).
import { BrokerError, decodeRecordBatch, invalidField } from "../../broker";
import type { ResetOffsetsRequest__Output } from "../../generated/raftline/v1/ResetOffsetsRequest";
import { readBatches } from "../../storage/broker-store";
import type { NodeContext } from "../node-context";

export async function resetTarget(ctx: NodeContext, req: ResetOffsetsRequest__Output, partition: number): Promise<number> {
  const state = ctx.machine.state;
  const info = state.partitionInfo(req.topic, partition);
  switch (req.target) {
    case "earliest":
      return info.startOffset;
    case "latest":
      return info.highWatermark;
    case "offset": {
      const offset = req.offset ?? -1;
      if (offset < 0) throw invalidField(`offset must not be negative, got ${offset}`);
      if (offset < info.startOffset || offset > info.highWatermark) {
        throw new BrokerError(
          "OUT_OF_RANGE",
          "ERROR_REASON_OFFSET_OUT_OF_RANGE",
          `offset ${offset} is out of range [${info.startOffset}, ${info.highWatermark}] for "${req.topic}" partition ${partition}`,
        );
      }
      return offset;
    }
    case "timestampMs":
    case "durationBackMs": {
      const value = (req.target === "timestampMs" ? req.timestampMs : req.durationBackMs) ?? -1;
      if (value < 0) throw invalidField(`${req.target === "timestampMs" ? "timestamp_ms" : "duration_back_ms"} must not be negative, got ${value}`);
      const timestampMs = req.target === "timestampMs" ? value : ctx.now() - value;
      return offsetForTimestamp(ctx, req.topic, partition, timestampMs, info.highWatermark);
    }
    default:
      throw invalidField("a reset needs a target: earliest, latest, offset, timestamp_ms or duration_back_ms");
  }
}

async function offsetForTimestamp(ctx: NodeContext, topic: string, partition: number, timestampMs: number, highWatermark: number): Promise<number> {
  // Located and read in one landed moment: the batch found in memory is the one the read sees.
  const read = await ctx.replica.readLanded(() => {
    const batch = ctx.machine.state.batchForTimestamp(topic, partition, timestampMs);
    return batch && readBatches(ctx.db, [batch]);
  });
  if (!read) return highWatermark;
  try {
    const [stored] = await read;
    if (!stored) return highWatermark;
    const record = decodeRecordBatch(stored.blob, stored.baseOffset).find((r) => r.timestampMs >= timestampMs);
    return record ? record.offset : highWatermark;
  } catch (err) {
    ctx.damage.noteIfDamage(err);
    throw err;
  }
}
