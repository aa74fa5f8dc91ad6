// Runs one logical request against the cluster: picks a broker, makes the call under a deadline, and on
// a retriable failure learns from it (leader hint, dead broker) and tries again through the retrier.
import type * as grpc from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { BrokerPool, BrokerStubs } from "./broker-pool";
import { RaftlineError, toRaftlineError } from "./errors";
import { RetryClock, RetryPolicy, retry, systemClock } from "./retry";

export class CallRunner {
  constructor(
    readonly pool: BrokerPool,
    readonly policy: RetryPolicy,
    readonly clock: RetryClock = systemClock,
  ) {}

  /** `preferLeader`: go to the known leader (writes, freshest reads) rather than any broker. */
  run<T>(preferLeader: boolean, call: (stubs: BrokerStubs) => Promise<T>, policy: RetryPolicy = this.policy): Promise<T> {
    return retry(
      async () => {
        const stubs = this.pool.stubs(this.pool.target(preferLeader));
        try {
          return await call(stubs);
        } catch (err) {
          throw toRaftlineError(err, stubs.address);
        }
      },
      policy,
      { clock: this.clock, onError: (err) => this.pool.noteError(err) },
    );
  }
}

/** Adapts a grpc-js unary call to a promise, failing with a RaftlineError that names the broker. */
export function callUnary<T>(
  address: string,
  timeoutMs: number,
  start: (options: grpc.CallOptions, done: grpc.requestCallback<T>) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    start({ deadline: Date.now() + timeoutMs }, (err, value) => {
      if (err) reject(toRaftlineError(err, address));
      else if (value === undefined) reject(new RaftlineError({ code: status.INTERNAL, message: "empty answer", address }));
      else resolve(value);
    });
  });
}
