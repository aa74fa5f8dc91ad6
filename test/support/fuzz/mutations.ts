// Byte-level mutations of an encoded request: truncation, flipped bytes, garbage, a field sent with the
// wrong wire type or a varint far out of range. After one, nothing is known about the request's validity:
// the oracle only asks for a documented answer.
import type { MessageDescriptor } from "../../../src/server/proto-descriptors";
import type { Prng } from "../sim/prng";
import { WireType, field } from "./wire-bytes";

export interface Mutated {
  bytes: Buffer;
  /** What was done, for the failure report; "" when the bytes are the generated message's. */
  mutation: string;
}

const wireTypes = [WireType.Varint, WireType.Fixed64, WireType.Bytes, WireType.Fixed32];

function wireTypeOf(type: string): WireType {
  if (type === "TYPE_STRING" || type === "TYPE_BYTES" || type === "TYPE_MESSAGE") return WireType.Bytes;
  if (type === "TYPE_DOUBLE" || type.includes("FIXED64")) return WireType.Fixed64;
  if (type === "TYPE_FLOAT" || type.includes("FIXED32")) return WireType.Fixed32;
  return WireType.Varint;
}

function randomBytes(prng: Prng, length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = prng.int(0, 255);
  return b;
}

export function mutate(prng: Prng, bytes: Buffer, type: MessageDescriptor): Mutated {
  const r = prng.next();
  if (r < 0.55) return { bytes, mutation: "" };
  if (r < 0.62 && bytes.length > 1) {
    const at = prng.int(1, bytes.length - 1);
    return { bytes: bytes.subarray(0, at), mutation: `truncated to ${at} of ${bytes.length} bytes` };
  }
  if (r < 0.7 && bytes.length > 0) {
    const copy = Buffer.from(bytes);
    const flips = prng.int(1, 4);
    for (let i = 0; i < flips; i++) copy[prng.int(0, copy.length - 1)] ^= 1 << prng.int(0, 7);
    return { bytes: copy, mutation: `${flips} bit(s) flipped` };
  }
  if (r < 0.76) {
    const garbage = prng.chance(0.3) ? Buffer.from([0xff, 0xff, 0xff]) : randomBytes(prng, prng.int(1, 64));
    return { bytes: garbage, mutation: `garbage ${garbage.subarray(0, 16).toString("hex")}` };
  }
  if (r < 0.8) {
    const tail = randomBytes(prng, prng.int(1, 16));
    return { bytes: Buffer.concat([bytes, tail]), mutation: `garbage appended ${tail.toString("hex")}` };
  }
  if (type.field.length === 0) return { bytes, mutation: "" };
  const f = prng.pick(type.field);
  if (r < 0.9) {
    const wrong = prng.pick(wireTypes.filter((t) => t !== wireTypeOf(f.type)));
    const value = BigInt(prng.int(0, 2 ** 31 - 1));
    return {
      bytes: Buffer.concat([bytes, field(f.number, wrong, value, randomBytes(prng, prng.int(0, 8)))]),
      mutation: `field ${f.name} (#${f.number}) sent with wire type ${wrong}`,
    };
  }
  const huge = prng.pick([2n ** 64n - 1n, 2n ** 63n, 2n ** 32n, 2n ** 31n, -1n]);
  return {
    bytes: Buffer.concat([bytes, field(f.number, wireTypeOf(f.type) === WireType.Varint ? WireType.Varint : wireTypeOf(f.type), huge, randomBytes(prng, 4))]),
    mutation: `field ${f.name} (#${f.number}) set to ${huge}`,
  };
}
