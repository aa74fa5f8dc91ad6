// Random request messages built from the contract's descriptors. Half are "tame" (nearly every field set
// to a plausible value: names of topics that exist, 0 or 1 for numbers) so that calls get past the first
// check and reach deeper code; the others mix in the values that break things (huge and negative numbers,
// odd strings, oversized strings and repeated fields). Either kind may hold an enum value its enum does
// not define: such a message is invalid by construction.
import type { FieldDescriptor, MessageDescriptor, ProtoTypes } from "../../../src/server/proto-descriptors";
import type { Prng } from "../sim/prng";

export interface Dictionary {
  /** Names of topics that exist, so that produce, fetch and friends can succeed. */
  topics: readonly string[];
}

export interface GeneratedMessage {
  message: Record<string, unknown>;
  /** Why the message must be refused, when it is invalid by construction. */
  invalid: string | undefined;
  /** Set when a string or repeated field was made huge. */
  oversized: boolean;
}

/** Largest string or bytes value generated, so that requests stay under the server's request limit. */
export const maxOversizedBytes = 256 * 1024;
/** Largest repeated field generated. */
export const maxOversizedRepeated = 2000;
/** Bytes of strings and bytes values one message may hold: far under the server's 8 MiB request limit. */
export const messageBudgetBytes = 1024 * 1024;
const maxDepth = 4;

const interestingInts = [0, 0, 0, 1, 1, 2, 3, 7, -1, -2, 127, 128, 255, 1000, 1001, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, 2 ** 53 - 1, -(2 ** 53 - 1)];
const oddStrings = ["", ".", "..", "bad name!", "a".repeat(250), "ünïcödé", "\u0000", "0", "-1", "k1:", "a/b", " "];

export class MessageGenerator {
  private invalid: string | undefined;
  private oversized = false;
  private budgetBytes = 0;
  private tame = false;

  constructor(
    private readonly types: ProtoTypes,
    private readonly prng: Prng,
    private readonly dictionary: Dictionary,
  ) {}

  generate(type: MessageDescriptor): GeneratedMessage {
    this.invalid = undefined;
    this.oversized = false;
    this.budgetBytes = messageBudgetBytes;
    this.tame = this.prng.chance(0.5);
    const message = this.message(type, 0, "", false);
    return { message, invalid: this.invalid, oversized: this.oversized };
  }

  private message(type: MessageDescriptor, depth: number, path: string, small: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const field of type.field) {
      // Most fields are set; a deep message sets fewer, so generation stays bounded.
      if (!this.prng.chance(this.tame ? 0.9 : depth === 0 ? 0.85 : 0.6)) continue;
      const name = path + field.name;
      if (field.label === "LABEL_REPEATED") {
        const count = this.repeatedCount(depth);
        out[field.name] = Array.from({ length: count }, () => this.value(field, depth, name, small || count > 50));
      } else {
        out[field.name] = this.value(field, depth, name, small);
      }
    }
    return out;
  }

  private repeatedCount(depth: number): number {
    if (this.tame) return this.prng.int(1, 2);
    if (depth < 2 && this.prng.chance(0.02)) {
      this.oversized = true;
      return this.prng.int(100, maxOversizedRepeated);
    }
    return this.prng.pick([0, 1, 1, 1, 2, 3]);
  }

  private value(field: FieldDescriptor, depth: number, path: string, small: boolean): unknown {
    switch (field.type) {
      case "TYPE_STRING":
        return this.string(field, small);
      case "TYPE_BYTES":
        return this.bytes(small);
      case "TYPE_BOOL":
        return this.prng.chance(0.5);
      case "TYPE_DOUBLE":
      case "TYPE_FLOAT":
        return this.prng.pick([0, -1, 1.5, 1e300, -1e-300]);
      case "TYPE_ENUM":
        return this.enumValue(field, path);
      case "TYPE_MESSAGE":
        return depth >= maxDepth ? {} : this.message(this.types.message(field.typeName), depth + 1, `${path}.`, small);
      default:
        return this.integer(field);
    }
  }

  private integer(field: FieldDescriptor): number {
    const unsigned = field.type.includes("UINT") || field.type.includes("FIXED") && !field.type.includes("SFIXED");
    if (this.tame) return this.prng.pick([0, 0, 1]);
    const v = this.prng.chance(0.6) ? this.prng.int(0, 4) : this.prng.pick(interestingInts);
    return unsigned ? Math.abs(v) : v;
  }

  private string(field: FieldDescriptor, small: boolean): string {
    const r = this.prng.next();
    if (this.tame) return this.dictionary.topics.length > 0 && r < 0.9 ? this.prng.pick(this.dictionary.topics) : `fz-${this.prng.int(0, 50)}`;
    if (!small && r < 0.03) {
      this.oversized = true;
      return "n".repeat(this.spend(this.prng.int(1024, maxOversizedBytes)));
    }
    if (field.name.toLowerCase().includes("topic") || field.name === "name") {
      if (r < 0.75 && this.dictionary.topics.length > 0) return this.prng.pick(this.dictionary.topics);
    }
    if (r < 0.85) return this.prng.pick(oddStrings);
    return `fz-${this.prng.int(0, 50)}`;
  }

  private bytes(small: boolean): Buffer {
    if (!small && !this.tame && this.prng.chance(0.03)) {
      this.oversized = true;
      return Buffer.alloc(this.spend(this.prng.int(1024, maxOversizedBytes)), 7);
    }
    const b = Buffer.alloc(this.spend(this.prng.int(0, 32)));
    for (let i = 0; i < b.length; i++) b[i] = this.prng.int(0, 255);
    return b;
  }

  /** As many of `bytes` as the message's budget still allows. */
  private spend(bytes: number): number {
    const granted = Math.max(0, Math.min(bytes, this.budgetBytes));
    this.budgetBytes -= granted;
    return granted;
  }

  private enumValue(field: FieldDescriptor, path: string): string | number {
    const e = this.types.enumType(field.typeName);
    if (this.prng.chance(this.tame ? 0.25 : 0.12)) {
      const defined = new Set(e.value.map((v) => v.number));
      const candidates = [3, 7, -1, 2 ** 31 - 1, 99, e.value.length].filter((n) => !defined.has(n));
      const n = this.prng.pick(candidates);
      this.invalid ??= `${path} = ${n} is not a value of ${e.name}`;
      return n;
    }
    return this.prng.pick(e.value).name;
  }
}
