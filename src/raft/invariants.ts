// Cheap checks of the core's internal invariants. A failure is a bug in the core, never the result of
// bad input: it throws at once rather than let a broken state reach the disk or the network.

export class RaftInvariantError extends Error {
  override readonly name = "RaftInvariantError";
}

export function invariant(holds: boolean, describe: () => string): void {
  if (!holds) throw new RaftInvariantError(`raft invariant broken: ${describe()}`);
}
