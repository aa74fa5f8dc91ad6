// The vocabulary of the consensus core: entries, messages, hard state, Ready.
// Everything here is plain data so that the driver can persist and send it, and the simulation can
// clone and inspect it.

/** Node ids are positive integers; 0 means "none" (no vote, no known leader). */
export type NodeId = number;
export const NONE: NodeId = 0;

export enum EntryType {
  /** Application data; an empty Normal entry is the leader's no-op at the start of its term. */
  Normal = 0,
  /** A membership change; `data` is an encoded ConfChange (see encodeConfChange). */
  ConfChange = 1,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must be durable before any message of the same Ready is sent (Raft Figure 2, "persistent state"). */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export enum ConfChangeType {
  AddVoter = 0,
  RemoveVoter = 1,
  AddLearner = 2,
}

export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
}

/** The core knows only a snapshot's position and membership; its bytes are the transport's job. */
export interface SnapshotMeta {
  index: number;
  term: number;
  conf: ConfState;
}

export enum MessageType {
  PreVote = 0,
  PreVoteResp = 1,
  Vote = 2,
  VoteResp = 3,
  App = 4,
  AppResp = 5,
  Heartbeat = 6,
  HeartbeatResp = 7,
  Snap = 8,
  TimeoutNow = 9,
  /** A follower asks the leader for a read index on behalf of its client. */
  ReadIndex = 10,
  ReadIndexResp = 11,
}

export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  /** App: term of the entry before `entries`. Votes: the candidate's last log term. */
  logTerm: number;
  /** App: index of the entry before `entries`. Votes: the candidate's last index. AppResp: match or rejected index. ReadIndexResp: the read index. */
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  /** AppResp with reject: the follower's hint for the next probe (fast back-off). */
  rejectHint: number;
  /** AppResp with reject: the term of the follower's entry at rejectHint (0 if none). */
  rejectHintTerm: number;
  /** Snap only. */
  snapshot?: SnapshotMeta;
  /** ReadIndex / Heartbeat / their responses: identifies the read request. */
  context?: string;
}

export enum Role {
  Follower = 0,
  PreCandidate = 1,
  Candidate = 2,
  Leader = 3,
}

export interface SoftState {
  leader: NodeId;
  role: Role;
}

export interface ReadState {
  /** Apply up to this index, then the read is linearizable. */
  index: number;
  context: string;
}

/**
 * One batch of work for the driver. The driver MUST:
 *  1. write `snapshot` (if any), `entries` and `hardState` in one write, fsynced when `mustSync`, and
 *     land its writes in the order it took their Readys (so the stored log is always a prefix of this
 *     one and the stored term and vote never move back);
 *  2. send `messages` only once that write has landed (a vote or an append acknowledgement must never
 *     leave before the state it acknowledges is on disk — Raft Figure 2, "respond to RPCs only after
 *     updating stable storage"); a leader's replication messages (App, Heartbeat, TimeoutNow) may leave
 *     at once (Raft thesis §10.2.1): they acknowledge nothing;
 *  3. apply `committedEntries` in order (and install `snapshot` data if present, after every earlier
 *     write has landed);
 *  4. call `advance(ready)` once all that is done — or, to keep stepping while the write is under way
 *     (etcd's asynchronous storage writes), `accept(ready)` once it has applied and started the write,
 *     and `persisted(index, term)` with the Ready's last entry when the write lands.
 * The leader counts its own log towards commit only when persisted (advance or persisted()).
 * `committedEntries` may include entries whose write has not landed yet: committed means durable on a
 * majority, and the apply's own writes land after them (step 1). A Ready that carries a snapshot
 * carries no committedEntries. tick/step/propose may be called between `ready()` and
 * `advance()`/`accept()` (what they produce goes into the next Ready), but not `ready()` itself.
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  entries: Entry[];
  snapshot?: SnapshotMeta;
  messages: Message[];
  committedEntries: Entry[];
  readStates: ReadState[];
  /** True when hardState or entries must be fsynced before sending. */
  mustSync: boolean;
}

export interface RaftConfig {
  id: NodeId;
  /** Ticks without hearing from a leader before campaigning; the actual timeout is randomized in [n, 2n). */
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Upper bound on the bytes of entries in one App message. */
  maxMsgBytes: number;
  /** Bound on unacknowledged App messages per follower in the replicate state. */
  maxInflightMsgs: number;
  /** Bound on the bytes of proposed but uncommitted entries; beyond it proposals are refused. */
  maxUncommittedBytes: number;
  /** A learner is promotable when its match is within this many entries of the leader's last index. */
  learnerCatchUpEntries: number;
}

/** A seeded source of randomness, injected so that runs replay exactly. Returns [0, 1). */
export type Random = () => number;

/** What the driver restores from storage when a node restarts. */
export interface RaftState {
  hardState: HardState;
  /** The last snapshot (or the initial configuration at index 0 for a new cluster). */
  snapshot: SnapshotMeta;
  /** Entries after snapshot.index, in order. */
  entries: Entry[];
  /** The highest index already applied by the state machine (>= snapshot.index). */
  applied: number;
  /** Membership as of `applied` (conf changes are applied by the driver via applyConfChange). */
  conf: ConfState;
}

export enum ProposalErrorCode {
  /** Not the leader: certainly not appended. `leader` is a hint (0 when unknown). */
  NotLeader = "NOT_LEADER",
  /** A leadership transfer is under way: certainly not appended; retry shortly. */
  TransferInProgress = "TRANSFER_IN_PROGRESS",
  /** The uncommitted tail is over maxUncommittedBytes: certainly not appended; back off. */
  UncommittedTailFull = "UNCOMMITTED_TAIL_FULL",
  /** A conf change is already pending, or this change is invalid. */
  ConfChangeRejected = "CONF_CHANGE_REJECTED",
  /** The transfer target is this node, unknown, or a learner: nothing started. */
  TransferRejected = "TRANSFER_REJECTED",
  /** Too many read-index requests are waiting for confirmation: not queued; back off. */
  ReadQueueFull = "READ_QUEUE_FULL",
}

export type ProposeResult =
  | { ok: true; index: number; term: number }
  | { ok: false; code: ProposalErrorCode; leader: NodeId; message: string };

export interface FollowerProgress {
  id: NodeId;
  match: number;
  next: number;
  state: "probe" | "replicate" | "snapshot";
  learner: boolean;
  recentActive: boolean;
}

/** What a driver may read on every input, without building status()'s progress list. */
export interface BasicStatus {
  term: number;
  vote: NodeId;
  role: Role;
  leader: NodeId;
}

export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  leader: NodeId;
  commit: number;
  applied: number;
  lastIndex: number;
  firstIndex: number;
  conf: ConfState;
  /** Only on the leader. */
  progress: FollowerProgress[];
  transferee: NodeId;
}
