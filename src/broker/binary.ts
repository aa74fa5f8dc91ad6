// Minimal big-endian binary writing and reading on Uint8Array, for the command codec and the record
// batch format. Writers are sized up front (callers compute the exact length), so encoding allocates
// once and never copies a payload twice.

const twoPow32 = 0x1_0000_0000;
const varintContinue = 0x80;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Bytes an unsigned LEB128 varint of `value` (a non-negative safe integer) takes. */
export function varintBytes(value: number): number {
  let bytes = 1;
  while (value >= varintContinue) {
    value = Math.floor(value / varintContinue);
    bytes++;
  }
  return bytes;
}

/** Maps signed to unsigned so small magnitudes stay short: 0, -1, 1, -2 → 0, 1, 2, 3. */
export function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

export function unzigzag(value: number): number {
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

export class ByteWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  pos = 0;

  constructor(lengthBytes: number) {
    this.bytes = new Uint8Array(lengthBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  u8(value: number): void {
    this.bytes[this.pos++] = value;
  }

  u16(value: number): void {
    this.view.setUint16(this.pos, value);
    this.pos += 2;
  }

  u32(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`not a u32: ${value}`);
    this.view.setUint32(this.pos, value);
    this.pos += 4;
  }

  /** A non-negative safe integer in 8 bytes. */
  u64(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative safe integer: ${value}`);
    this.view.setUint32(this.pos, Math.floor(value / twoPow32));
    this.view.setUint32(this.pos + 4, value >>> 0);
    this.pos += 8;
  }

  varint(value: number): void {
    while (value >= varintContinue) {
      this.bytes[this.pos++] = (value % varintContinue) | varintContinue;
      value = Math.floor(value / varintContinue);
    }
    this.bytes[this.pos++] = value;
  }

  raw(data: Uint8Array): void {
    this.bytes.set(data, this.pos);
    this.pos += data.length;
  }

  /** The written bytes; asserts the up-front length was exact. */
  finish(): Uint8Array {
    if (this.pos !== this.bytes.length) {
      throw new Error(`encoder wrote ${this.pos} bytes, expected ${this.bytes.length}`);
    }
    return this.bytes;
  }
}

/** Reads with bounds checks; any overrun or malformed value throws the error the owner supplies. */
export class ByteReader {
  private readonly view: DataView;
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    private readonly malformed: (what: string) => Error,
    start = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** A u32 byte length, then that many bytes of UTF-8. */
  str(what: string): string {
    return this.utf8(this.u32(what), what);
  }

  /** A u32 count, then that many items; every item takes at least one byte, so a larger count is damage. */
  list<T>(what: string, item: () => T): T[] {
    const count = this.u32(what);
    if (count > this.remaining) throw this.malformed(`${what}: ${count} items in ${this.remaining} bytes`);
    return Array.from({ length: count }, item);
  }

  private need(count: number, what: string): void {
    if (this.pos + count > this.bytes.length) throw this.malformed(`truncated ${what}`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++];
  }

  u16(what: string): number {
    this.need(2, what);
    const value = this.view.getUint16(this.pos);
    this.pos += 2;
    return value;
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.pos);
    this.pos += 4;
    return value;
  }

  u64(what: string): number {
    this.need(8, what);
    const value = this.view.getUint32(this.pos) * twoPow32 + this.view.getUint32(this.pos + 4);
    if (!Number.isSafeInteger(value)) throw this.malformed(`${what} exceeds 2^53 - 1`);
    this.pos += 8;
    return value;
  }

  varint(what: string): number {
    const maxVarintBytes = 8;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < maxVarintBytes; i++) {
      this.need(1, what);
      const byte = this.bytes[this.pos++];
      value += (byte & 0x7f) * scale;
      if (byte < varintContinue) {
        if (!Number.isSafeInteger(value)) throw this.malformed(`${what} exceeds 2^53 - 1`);
        return value;
      }
      scale *= varintContinue;
    }
    throw this.malformed(`${what}: varint longer than ${maxVarintBytes} bytes`);
  }

  /** Steps over the next `count` bytes without making a view of them. */
  skip(count: number, what: string): void {
    this.need(count, what);
    this.pos += count;
  }

  /** A view (not a copy) of the next `count` bytes. */
  slice(count: number, what: string): Uint8Array {
    this.need(count, what);
    const out = this.bytes.subarray(this.pos, this.pos + count);
    this.pos += count;
    return out;
  }

  utf8(count: number, what: string): string {
    const raw = this.slice(count, what);
    try {
      return utf8Decoder.decode(raw);
    } catch {
      throw this.malformed(`${what}: invalid UTF-8`);
    }
  }
}
