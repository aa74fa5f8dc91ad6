// Runs one benchmark by name: `npm run bench -- <name> [options]`. To add a bench, add one line below.
import { runRaftCoreBench } from "./raft-core";

type Bench = (args: string[]) => Promise<void> | void;

const benches: Record<string, Bench> = {
  "raft-core": runRaftCoreBench,
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const bench = name === undefined ? undefined : benches[name];
  if (bench === undefined) {
    console.error(`usage: npm run bench -- <name> [options]\nbenches: ${Object.keys(benches).join(", ")}`);
    process.exitCode = 2;
    return;
  }
  await bench(args);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
