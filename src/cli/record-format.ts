// How `consume` prints records: the value alone, key and value, or JSON lines. JSON carries text as
// strings and anything that is not valid UTF-8 as base64 under a *Base64 field.
import { isUtf8 } from "node:buffer";
import type { ConsumedRecord } from "../client";

export const recordFormats = ["value", "kv", "json"] as const;
export type RecordFormat = (typeof recordFormats)[number];

const newline = Buffer.from("\n");

function jsonBytes(name: string, bytes: Buffer | undefined, into: Record<string, unknown>): void {
  if (bytes === undefined) into[name] = null;
  else if (isUtf8(bytes)) into[name] = bytes.toString("utf8");
  else into[`${name}Base64`] = bytes.toString("base64");
}

export function formatRecord(r: ConsumedRecord, format: RecordFormat, keySeparator: string): Buffer {
  if (format === "value") return Buffer.concat([r.value, newline]);
  if (format === "kv") return Buffer.concat([r.key ?? Buffer.alloc(0), Buffer.from(keySeparator), r.value, newline]);
  const out: Record<string, unknown> = { topic: r.topic, partition: r.partition, offset: r.offset, timestampMs: r.timestampMs };
  jsonBytes("key", r.key, out);
  jsonBytes("value", r.value, out);
  out.headers = r.headers.map((h) => {
    const header: Record<string, unknown> = { key: h.key };
    jsonBytes("value", h.value, header);
    return header;
  });
  return Buffer.from(JSON.stringify(out) + "\n");
}
