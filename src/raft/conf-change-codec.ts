// The bytes of a ConfChange entry. Fixed layout so that every node (and every version) decodes the same
// change: [format version u8][type u8][node id: high u32 BE][node id: low u32 BE].
import { ConfChange, ConfChangeType } from "./types";

const confChangeFormatVersion = 1;
const confChangeEncodedBytes = 10;
const twoPow32 = 0x1_0000_0000;

export function encodeConfChange(cc: ConfChange): Uint8Array {
  if (!Number.isSafeInteger(cc.nodeId) || cc.nodeId <= 0) {
    throw new RangeError(`conf change node id must be a positive safe integer, got ${cc.nodeId}`);
  }
  const out = new Uint8Array(confChangeEncodedBytes);
  const view = new DataView(out.buffer);
  view.setUint8(0, confChangeFormatVersion);
  view.setUint8(1, cc.type);
  view.setUint32(2, Math.floor(cc.nodeId / twoPow32));
  view.setUint32(6, cc.nodeId % twoPow32);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.length !== confChangeEncodedBytes) {
    throw new RangeError(`conf change must be ${confChangeEncodedBytes} bytes, got ${data.length}`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = view.getUint8(0);
  if (version !== confChangeFormatVersion) {
    throw new RangeError(`unknown conf change format version ${version}`);
  }
  const type = view.getUint8(1);
  if (type !== ConfChangeType.AddVoter && type !== ConfChangeType.RemoveVoter && type !== ConfChangeType.AddLearner) {
    throw new RangeError(`unknown conf change type ${type}`);
  }
  const nodeId = view.getUint32(2) * twoPow32 + view.getUint32(6);
  if (nodeId <= 0 || !Number.isSafeInteger(nodeId)) {
    throw new RangeError(`invalid conf change node id ${nodeId}`);
  }
  return { type, nodeId };
}
