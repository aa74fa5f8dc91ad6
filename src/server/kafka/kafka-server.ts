// The Kafka listener of one node, when configured: the TCP listener, the group coordinator, and the
// bounds they run with.
import type { Logger } from "pino";
import type { NodeContext } from "../node-context";
import { decompressor } from "./kafka-compression";
import { dispatch } from "./kafka-dispatch";
import { KafkaGroups } from "./kafka-groups";
import { KafkaListener, type KafkaListenerBounds } from "./kafka-listener";
import type { KafkaNode } from "./kafka-node";

/** Room for a request's headers and framing beyond the node's maxRequestBytes of records. */
const frameOverheadBytes = 64 * 1024;

export function kafkaBounds(ctx: NodeContext): KafkaListenerBounds {
  return {
    maxFrameBytes: ctx.config.maxRequestBytes + frameOverheadBytes,
    maxConnections: 1024,
    frameTimeoutMs: 30_000,
    idleTimeoutMs: ctx.config.maxConnectionIdleMs,
    maxQueuedFrames: 16,
  };
}

export interface KafkaServer {
  address: string;
  close(): Promise<void>;
}

export async function startKafkaServer(ctx: NodeContext, address: string, logger: Logger): Promise<KafkaServer> {
  const groups = new KafkaGroups(ctx);
  const node: KafkaNode = { ctx, groups, decompress: decompressor(ctx.config.maxRequestBytes) };
  const listener = await KafkaListener.start(address, (header, body) => dispatch(node, header, body), kafkaBounds(ctx), logger);
  groups.start();
  return {
    address: listener.address,
    close: async () => {
      groups.stop();
      await listener.close();
    },
  };
}
