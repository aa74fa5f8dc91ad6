// The contract fuzzer: seeded random and mutated requests to every rpc of every public service, sent to
// every node of a live cluster, one at a time. Each answer must be documented (oracle.ts); a call the
// cluster certainly refused must leave its observable state as it was (cluster-state.ts); no node may
// crash or log an error. The same seed replays the same sequence of requests.
import * as grpc from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { ProtoTypes } from "../../../src/server/proto-descriptors";
import { publicPackageDefinition } from "../../../src/server/public-proto";
import type { Cluster } from "../cluster";
import { RawBytesClient } from "../contract-calls";
import { unaryCall } from "../raw-stubs";
import { Prng } from "../sim/prng";
import { ClusterState, membersAlive, topicsOf } from "./cluster-state";
import { ContractMethod, contractMethods } from "./contract-methods";
import { GeneratedMessage, MessageGenerator } from "./message-generator";
import { mutate } from "./mutations";
import { Answer, certainlyRefused, decidedAtApply, violation } from "./oracle";

export interface FuzzOptions {
  cluster: Cluster;
  seed: number;
  seconds: number;
  /** Stop after this many calls even if time is left. */
  maxCalls?: number;
  /** How to replay a failure, quoted in its message (e.g. the test command). */
  replay?: string;
  /** What the raw calls connect with (a secure cluster: TLS and the superuser's token); default plaintext. */
  credentials?: grpc.ChannelCredentials;
  /** Fuzz only the rpcs whose path passes; default every rpc of the contract. */
  only?: (path: string) => boolean;
}

export interface FuzzReport {
  seed: number;
  calls: number;
  seconds: number;
  /** Answers by status name (stream responses' in-band errors counted too). */
  statuses: Record<string, number>;
  /** Calls by method path. */
  methods: Record<string, number>;
}

export class FuzzFailure extends Error {
  constructor(
    message: string,
    readonly seed: number,
    readonly call: number,
  ) {
    super(message);
    this.name = "FuzzFailure";
  }
}

/** Topics the harness keeps alive so that valid requests can name one. */
export const seedTopics = [
  { name: "fuzz-a", partitions: 1 },
  { name: "fuzz-b", partitions: 3 },
];

const deadlineMs = 400;
const shortDeadlineMs = 1;
const streamDeadlineMs = 100;
const logCheckEveryCalls = 100;

interface Case {
  method: ContractMethod;
  node: number;
  messages: { bytes: Buffer; mustRefuse: string | undefined; description: string }[];
  deadlineMs: number;
}

export async function fuzzContract(options: FuzzOptions): Promise<FuzzReport> {
  const { cluster, seed } = options;
  const prng = new Prng(seed);
  const types = new ProtoTypes(publicPackageDefinition());
  const methods = contractMethods().filter((m) => options.only?.(m.path) ?? true);
  const generator = new MessageGenerator(types, prng, { topics: seedTopics.map((t) => t.name) });
  const state = new ClusterState(cluster, options.credentials);
  const clients = new Map(cluster.nodes.map((n) => [n.id, new RawBytesClient(n.clientAddress, options.credentials)]));
  const report: FuzzReport = { seed, calls: 0, seconds: 0, statuses: {}, methods: {} };
  const count = (code: number): void => {
    const name = grpc.status[code] ?? String(code);
    report.statuses[name] = (report.statuses[name] ?? 0) + 1;
  };
  const fail = (what: string, c?: Case): never => {
    const where = c ? ` at call #${report.calls} (${c.method.path} via node ${c.node}, deadline ${c.deadlineMs} ms; ${c.messages.map((m) => m.description).join("; ")})` : "";
    throw new FuzzFailure(`contract fuzzer, seed ${seed}${where}: ${what}${options.replay ? `\nreplay: ${options.replay}` : ""}`, seed, report.calls);
  };

  const started = Date.now();
  const logOffsets = new Map<number, number>();
  try {
    let baseline = await ensureSeedTopics(state);
    while (Date.now() - started < options.seconds * 1000 && report.calls < (options.maxCalls ?? Infinity)) {
      const c = nextCase(prng, methods, generator, cluster.liveIds());
      report.calls++;
      report.methods[c.method.path] = (report.methods[c.method.path] ?? 0) + 1;
      const answers = await execute(c, clients.get(c.node) as RawBytesClient);
      for (const { answer, mustRefuse } of answers) {
        count(answer.code);
        const v = violation(answer, mustRefuse);
        if (v) fail(v, c);
      }
      // A stream's requests are each refused in-band, or some may have been carried out unseen.
      const allAnswered = !c.method.requestStream || answers.filter((a) => a.inBand).length === c.messages.length;
      if (allAnswered && answers.every(({ answer }) => certainlyRefused(answer))) {
        const now = await state.read().catch(() => state.settled());
        const tookLogEntry = answers.some(({ answer }) => decidedAtApply(answer));
        const logMayMove = tookLogEntry || membersAlive(baseline) || membersAlive(now);
        const changed = logMayMove ? topicsOf(now) !== topicsOf(baseline) : now !== baseline;
        if (changed) fail(`a refused call changed the cluster's state:\n  before: ${baseline}\n  after:  ${now}`, c);
        baseline = now;
      } else {
        baseline = await ensureSeedTopics(state);
      }
      if (report.calls % logCheckEveryCalls === 0) checkNodes(cluster, logOffsets, (what) => fail(what, c));
    }
    checkNodes(cluster, logOffsets, (what) => fail(what));
  } finally {
    for (const client of clients.values()) client.close();
    state.close();
  }
  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  return report;
}

/**
 * The rpcs that change the cluster's members. They are fuzzed (decoding, enums, every field's checks)
 * with node_id 0, which makes each request invalid by construction: a fuzzer that added or removed
 * members would leave a different cluster under the calls that follow.
 */
const membershipRpcs: ReadonlySet<string> = new Set(
  ["AddNode", "RemoveNode", "ReplaceNode", "PromoteLearner"].map((m) => `/raftline.v1.Admin/${m}`),
);

function keepMembers(g: GeneratedMessage): void {
  g.message.nodeId = 0;
  g.invalid ??= "node_id 0";
}

/** True when mutated bytes still decode to a request naming a node (which might be a member). */
function namesANode(method: ContractMethod, bytes: Buffer): boolean {
  try {
    const decoded = method.deserializeRequest(bytes) as { nodeId?: number };
    return (decoded.nodeId ?? 0) > 0;
  } catch {
    return false;
  }
}

function nextCase(prng: Prng, methods: ContractMethod[], generator: MessageGenerator, live: number[]): Case {
  const method = prng.pick(methods);
  const node = prng.pick(live);
  const messages = Array.from({ length: method.requestStream ? prng.int(1, 4) : 1 }, (_, i) => {
    const g = generator.generate(method.requestType);
    if (membershipRpcs.has(method.path)) keepMembers(g);
    // Stream requests are told apart by their correlation id, where the message has one.
    if (method.requestStream && method.requestType.field.some((f) => f.name === "correlationId")) g.message.correlationId = i + 1;
    const generated = method.serialize(g.message);
    let m = mutate(prng, generated, method.requestType);
    if (membershipRpcs.has(method.path) && namesANode(method, m.bytes)) m = { bytes: generated, mutation: "" };
    const shape = g.oversized ? "oversized " : "";
    return {
      bytes: m.bytes,
      mustRefuse: m.mutation === "" ? g.invalid : undefined,
      description: m.mutation ? `${shape}${m.mutation}` : `${shape}${summarize(g.message)}`,
    };
  });
  const deadlineMs_ = prng.chance(0.08) ? shortDeadlineMs : method.responseStream ? streamDeadlineMs : deadlineMs;
  return { method, node, messages, deadlineMs: deadlineMs_ };
}

function summarize(message: Record<string, unknown>): string {
  const text = JSON.stringify(message, (_, v: unknown) => {
    if (typeof v === "string" && v.length > 40) return `${v.slice(0, 20)}…(${v.length})`;
    if (v && typeof v === "object" && (v as { type?: string }).type === "Buffer") return `<bytes>`;
    if (Array.isArray(v) && v.length > 5) return `[${v.length} items]`;
    return v;
  });
  return text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

interface Judged {
  answer: Answer;
  mustRefuse: string | undefined;
  /** One request's own answer within a stream. */
  inBand?: boolean;
}

function answerOf(err: unknown, deadlineAt: number, cancelledByClient = false): Answer {
  const e = err as grpc.ServiceError;
  const reason = e.metadata?.get("raftline-error-reason")[0];
  return {
    code: e.code,
    reason: reason === undefined ? "" : String(reason),
    message: e.details ?? "",
    deadlinePassed: Date.now() >= deadlineAt,
    cancelledByClient,
  };
}

const ok: Answer = { code: grpc.status.OK, reason: "", message: "", deadlinePassed: false, cancelledByClient: false };

async function execute(c: Case, client: RawBytesClient): Promise<Judged[]> {
  const deadlineAt = Date.now() + c.deadlineMs;
  const single = c.messages[0];
  if (!c.method.requestStream) {
    try {
      if (c.method.responseStream) await client.serverStream(c.method.path, single.bytes, c.deadlineMs, 1);
      else await client.unary(c.method.path, single.bytes, c.deadlineMs);
      return [{ answer: ok, mustRefuse: single.mustRefuse }];
    } catch (err) {
      return [{ answer: answerOf(err, deadlineAt), mustRefuse: single.mustRefuse }];
    }
  }
  // A request stream: each in-band answer is judged as the status of its own request.
  const judged: Judged[] = [];
  let responses: Buffer[] = [];
  try {
    responses = await client.bidi(c.method.path, c.messages.map((m) => m.bytes), c.deadlineMs);
  } catch (err) {
    judged.push({ answer: answerOf(err, deadlineAt), mustRefuse: undefined });
  }
  for (const bytes of responses) {
    const res = c.method.deserializeResponse(bytes) as { correlationId?: number; error?: { code: number; reason: string; message: string } | null };
    const index = typeof res.correlationId === "number" ? res.correlationId - 1 : -1;
    const mustRefuse = c.messages[index]?.mustRefuse;
    const answer = res.error
      ? { code: res.error.code, reason: res.error.reason, message: res.error.message, deadlinePassed: false, cancelledByClient: false }
      : ok;
    judged.push({ answer, mustRefuse, inBand: true });
  }
  return judged;
}

/** Recreates missing seed topics (with a record each, so offsets exist), then reads the settled state. */
async function ensureSeedTopics(state: ClusterState): Promise<string> {
  let current = await state.settled();
  for (const t of seedTopics) {
    if (current.includes(` ${t.name}:`)) continue;
    const stubs = state.harness(Number(/leader (\d+)/.exec(current)?.[1]));
    await unaryCall((o, cb) => stubs.admin.CreateTopic(t, new grpc.Metadata(), o, cb)).catch(() => undefined);
    const records = [{ value: Buffer.from("seed") }];
    await unaryCall((o, cb) => stubs.producer.Produce({ batches: [{ topic: t.name, partition: 0, records }] }, new grpc.Metadata(), o, cb)).catch(
      () => undefined,
    );
    current = await state.settled();
  }
  return current;
}

/** Every node still runs, and none logged an error (pino level 50+) since the last look. */
export function checkNodes(cluster: Cluster, offsets: Map<number, number>, fail: (what: string) => never): void {
  for (const node of cluster.nodes) {
    if (!node.running) fail(`node ${node.id} is no longer running\n${node.logTail()}`);
    const log = readFileSync(node.logPath, "utf8");
    const from = offsets.get(node.id) ?? 0;
    offsets.set(node.id, log.length);
    for (const line of log.slice(from).split("\n")) {
      if (/"level":(5\d|6\d)/.test(line) || /Unhandled|uncaught/i.test(line)) fail(`node ${node.id} logged an error: ${line.slice(0, 600)}`);
    }
  }
}
