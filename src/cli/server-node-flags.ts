// Node flags every `raftline serve` process is started with (by the shebang of main.ts, by `raftline
// dev`, by the Dockerfile and by the test and bench harnesses; a unit test keeps them in step).
//
// Why: record bytes live in Buffers, outside V8's heap, and V8 sizes its first old-generation limits
// from the heap it starts with. With the default small start a node taking 1 KiB records at full rate
// ran a full mark-compact every few hundred milliseconds (66 in 100,000 records, 2.5 s of pauses on
// the leader); starting at 128 MiB it ran 2, for about 10 % more RSS. A flag, not
// v8.setFlagsFromString: the initial heap is fixed when the process starts.
export const serverNodeFlags: readonly string[] = ["--initial-heap-size=128"];
