// The share-group configuration between its proto form (zeros meaning "the default") and the state's.
import type { ShareConfig, ShareConfigInput } from "../../broker";
import type { ShareGroupConfig, ShareGroupConfig__Output } from "../../generated/raftline/v1/ShareGroupConfig";

export function configOut(c: ShareConfig): ShareGroupConfig {
  return { ...c };
}

export function configIn(c: ShareGroupConfig__Output | null | undefined): ShareConfigInput {
  return {
    deliveryLimit: c?.deliveryLimit ?? 0,
    lockTimeoutMs: c?.lockTimeoutMs ?? 0,
    backoffInitialMs: c?.backoffInitialMs ?? 0,
    backoffMaxMs: c?.backoffMaxMs ?? 0,
    maxInFlightPerPartition: c?.maxInFlightPerPartition ?? 0,
    deadLetterTopic: c?.deadLetterTopic ?? "",
  };
}
