// Field keys of the ConsumedRecord and Header messages (proto/raftline/v1/records.proto), for the answers
// encoded by hand (consumed-wire.ts for Fetch and Subscribe, queues/delivery-wire.ts for share groups).
import { fieldKey, lenFieldSize, wireTypeLen, wireTypeVarint } from "./wire-writer";

export const offsetKey = fieldKey(1, wireTypeVarint);
export const timestampMsKey = fieldKey(2, wireTypeVarint);
export const keyKey = fieldKey(3, wireTypeLen);
export const valueKey = fieldKey(4, wireTypeLen);
export const headersKey = fieldKey(5, wireTypeLen);
export const headerKeyKey = fieldKey(1, wireTypeLen);
export const headerValueKey = fieldKey(2, wireTypeLen);

/** Bytes of a Header message body (empty fields left out, as proto3 does). */
export function headerBodySize(keyLength: number, valueLength: number): number {
  return (keyLength > 0 ? lenFieldSize(keyLength) : 0) + (valueLength > 0 ? lenFieldSize(valueLength) : 0);
}
