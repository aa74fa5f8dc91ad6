// `npm run bench -- NAME [flags]`: runs one benchmark by name; each prints its tables and writes its JSON
// under bench/results/. To add a bench, register it with one line below.
import { runBrokerBench } from "./broker";
import { runFailoverBench } from "./failover";
import { runFingerprintBench } from "./fingerprint";
import { runGroupsBench } from "./groups";
import { runKafkaBench } from "./kafka";
import { runMembershipBench } from "./membership";
import { runMemoryBench } from "./memory";
import { runMetricsBench } from "./metrics";
import { runQueueBench } from "./queue";
import { runRaftCoreBench } from "./raft-core";
import { runSteadyBench } from "./steady";

type Bench = (args: string[]) => Promise<void> | void;

const benches: Record<string, Bench> = {
  broker: runBrokerBench,
  failover: runFailoverBench,
  fingerprint: runFingerprintBench,
  groups: runGroupsBench,
  kafka: runKafkaBench,
  membership: runMembershipBench,
  memory: runMemoryBench,
  metrics: runMetricsBench,
  queue: runQueueBench,
  "raft-core": runRaftCoreBench,
  steady: runSteadyBench,
};

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  const bench = name === undefined ? undefined : benches[name];
  if (!bench) {
    process.stderr.write(`usage: npm run bench -- NAME [flags]; NAME is one of: ${Object.keys(benches).join(", ")}\n`);
    process.exit(2);
  }
  await bench(args);
}

// Exit explicitly: a bench may leave servers or sockets behind that would keep the process alive.
main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
