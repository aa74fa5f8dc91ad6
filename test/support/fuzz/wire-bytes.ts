// Raw protobuf wire bytes, for requests no generated serializer would write: a known field number with
// the wrong wire type, varints of any size, lengths that lie.
export enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

export function varint(value: bigint): Buffer {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

export function tag(field: number, type: WireType): Buffer {
  return varint(BigInt(field) * 8n + BigInt(type));
}

/** One field of `type` with an arbitrary payload of that type (a length-delimited one holds `bytes`). */
export function field(number: number, type: WireType, value: bigint, bytes: Buffer): Buffer {
  switch (type) {
    case WireType.Varint:
      return Buffer.concat([tag(number, type), varint(value)]);
    case WireType.Fixed64: {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt.asUintN(64, value));
      return Buffer.concat([tag(number, type), b]);
    }
    case WireType.Fixed32: {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(Number(BigInt.asUintN(32, value)));
      return Buffer.concat([tag(number, type), b]);
    }
    case WireType.Bytes:
      return Buffer.concat([tag(number, type), varint(BigInt(bytes.length)), bytes]);
  }
}
