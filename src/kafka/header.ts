// Request framing: a 4-byte size, then the request header (v1: api key, version, correlation id, client
// id) and the body. Responses carry header v0 (the correlation id) before their body.
import { KafkaDecodeError, KafkaReader, KafkaWriter } from "./wire";

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** A frame's payload size from its 4-byte prefix; throws for sizes outside 8..maxFrameBytes. */
export function frameSize(prefix: Uint8Array, maxFrameBytes: number): number {
  const size = new KafkaReader(prefix).int32("frame size");
  if (size < 8 || size > maxFrameBytes) throw new KafkaDecodeError(`frame size ${size} is outside 8..${maxFrameBytes}`);
  return size;
}

/** The first eight bytes (key, version, correlation id) are readable in any frame of a valid size. */
export function readRequestHeader(frame: Uint8Array): { header: RequestHeader; body: KafkaReader } {
  const r = new KafkaReader(frame);
  const apiKey = r.int16("api key");
  const apiVersion = r.int16("api version");
  const correlationId = r.int32("correlation id");
  const clientId = r.nullableString("client id");
  return { header: { apiKey, apiVersion, correlationId, clientId }, body: r };
}

/** Just the correlation id, for answering a frame whose client id does not decode. */
export function correlationIdOf(frame: Uint8Array): number {
  return new KafkaReader(frame, 4).int32("correlation id");
}

/** A response frame: size, correlation id, then the body. */
export function responseFrame(correlationId: number, body: Uint8Array): Uint8Array {
  const w = new KafkaWriter(8 + body.length);
  w.int32(4 + body.length).int32(correlationId).raw(body);
  return w.finish();
}

/** Throws unless the body was read to its end: trailing bytes mean client and server disagree on layout. */
export function expectEnd(r: KafkaReader, what: string): void {
  if (r.remaining !== 0) throw new KafkaDecodeError(`${r.remaining} unexpected bytes after the ${what} request`);
}
