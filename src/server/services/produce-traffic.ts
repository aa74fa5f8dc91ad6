// Records and bytes produced, counted once, on the node the client called (not again on the leader a
// follower forwarded or relayed the request to).
import type { ProduceRequest__Output } from "../../generated/raftline/v1/ProduceRequest";
import type { NodeContext } from "../node-context";

export function countProduced(ctx: NodeContext, req: ProduceRequest__Output): void {
  let records = 0;
  let bytes = 0;
  for (const batch of req.batches) {
    records += batch.records.length;
    for (const r of batch.records) {
      bytes += r.value.length + (r.key?.length ?? 0);
      for (const h of r.headers) bytes += Buffer.byteLength(h.key) + h.value.length;
    }
  }
  ctx.traffic.produced(records, bytes);
}
