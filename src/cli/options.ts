// Parsers for option values, failing as usage errors.
import { UsageError } from "./exit-codes";

export function nonNegativeInt(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${name} must be a non-negative integer, got "${value}"`);
    return n;
  };
}

export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** "k=v" → { key, value }; the first '=' splits. */
export function parseHeader(spec: string): { key: string; value: string } {
  const i = spec.indexOf("=");
  if (i <= 0) throw new UsageError(`a header is KEY=VALUE, got "${spec}"`);
  return { key: spec.slice(0, i), value: spec.slice(i + 1) };
}
