// The thin API the driver calls: tick, step and propose, then drain one Ready, persist, send, apply and
// advance — or accept it and report its write with persisted() when it lands, stepping meanwhile (see
// Ready in types.ts for the order the driver must keep).
import { cloneConfState } from "./conf-state";
import { invariant } from "./invariants";
import { Raft } from "./raft";
import {
  BasicStatus,
  ConfChange,
  ConfState,
  FollowerProgress,
  HardState,
  Message,
  NONE,
  NodeId,
  ProposeResult,
  RaftConfig,
  RaftState,
  RaftStatus,
  Random,
  Ready,
  Role,
  SoftState,
} from "./types";

/** Bound on the data bytes of committedEntries in one Ready (always at least one entry). */
export const maxCommittedBytesPerReady = 64 * 1024 * 1024;

export class RawNode {
  private readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** A Ready was handed out and its advance() or accept() has not come yet. */
  private awaitingAdvance = false;

  constructor(config: RaftConfig, state: RaftState, random: Random) {
    this.raft = new Raft(config, state, random);
    this.prevSoftState = this.softState();
    this.prevHardState = { ...state.hardState };
  }

  /** One logical clock tick: drives election timeouts and heartbeats. */
  tick(): void {
    this.raft.tick();
  }

  /** A message from a peer; stale, misrouted or unknown ones are ignored. */
  step(msg: Message): void {
    this.raft.step(msg);
  }

  /** Appends data.length Normal entries (leader only); the result gives the first index and the term. */
  propose(data: Uint8Array[]): ProposeResult {
    return this.raft.propose(data);
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.raft.proposeConfChange(cc);
  }

  /** The driver calls this when it applies a committed ConfChange entry; returns the new membership. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Asks for a linearizable read point. ok => a ReadState with this context appears in a later Ready, or
   * never if leadership is lost meanwhile (the caller times out). Contexts must be unique.
   */
  readIndex(context: string): ProposeResult {
    return this.raft.readIndex(context);
  }

  transferLeadership(to: NodeId): ProposeResult {
    return this.raft.transferLeadership(to);
  }

  /** Starts an election now (with a pre-vote round if configured). */
  campaign(): void {
    this.raft.hup("election");
  }

  hasReady(): boolean {
    const raft = this.raft;
    const log = raft.log;
    if (raft.msgs.length > 0 || raft.readStates.length > 0) return true;
    if (log.persisting < log.lastIndex() || log.pendingSnapshot !== undefined || log.hasNextCommittedEntries()) return true;
    const soft = this.prevSoftState;
    if (soft.leader !== raft.lead || soft.role !== raft.role) return true;
    const hard = this.prevHardState;
    return hard.term !== raft.term || hard.vote !== raft.vote || hard.commit !== log.committed;
  }

  /** The next batch of work. Call advance(ready) or accept(ready) before the next ready(). */
  ready(): Ready {
    if (this.awaitingAdvance) throw new Error("raft: ready() called again before advance() or accept()");
    const raft = this.raft;
    const log = raft.log;
    const rd: Ready = {
      entries: log.unstableEntries(),
      messages: raft.msgs,
      committedEntries: log.nextCommittedEntries(maxCommittedBytesPerReady),
      readStates: raft.readStates,
      mustSync: false,
    };
    raft.msgs = [];
    raft.readStates = [];
    if (rd.committedEntries.length > 0) {
      log.applying = rd.committedEntries[rd.committedEntries.length - 1].index;
      raft.reduceUncommittedBytes(log.lastSliceBytes);
    }
    if (log.pendingSnapshot !== undefined) rd.snapshot = log.pendingSnapshot;
    const soft = this.softState();
    if (soft.leader !== this.prevSoftState.leader || soft.role !== this.prevSoftState.role) {
      rd.softState = soft;
      this.prevSoftState = soft;
    }
    const prev = this.prevHardState;
    if (prev.term !== raft.term || prev.vote !== raft.vote || prev.commit !== log.committed) {
      // The durable promises: the term and commit index only grow, and a vote once cast stands for its term.
      invariant(
        raft.term >= prev.term && log.committed >= prev.commit && (raft.term > prev.term || prev.vote === NONE || raft.vote === prev.vote),
        () => `hard state moves back: term ${prev.term} → ${raft.term}, vote ${prev.vote} → ${raft.vote}, commit ${prev.commit} → ${log.committed}`,
      );
      rd.hardState = { term: raft.term, vote: raft.vote, commit: log.committed };
      // A commit index alone can be recomputed after a crash; term, vote, entries and snapshots cannot.
      rd.mustSync = prev.term !== raft.term || prev.vote !== raft.vote;
      this.prevHardState = rd.hardState;
    }
    rd.mustSync = rd.mustSync || rd.entries.length > 0 || rd.snapshot !== undefined;
    this.awaitingAdvance = true;
    return rd;
  }

  /** The driver persisted, sent and applied `rd`: accept(rd), then persisted() for its entries. */
  advance(rd: Ready): void {
    this.accept(rd);
    const last = rd.entries.length > 0 ? rd.entries[rd.entries.length - 1] : undefined;
    this.persisted(last?.index ?? 0, last?.term ?? 0);
  }

  /**
   * The driver took `rd`: its snapshot is installed, its committed entries applied, its entries are being
   * written (persisted() reports when they land) and its messages will leave once that write has landed
   * (a leader's replication messages at once). The next ready() may come before the write lands.
   */
  accept(rd: Ready): void {
    this.awaitingAdvance = false;
    const log = this.raft.log;
    if (rd.snapshot !== undefined) log.snapshotInstalled(rd.snapshot.index);
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      log.persistingTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
    log.checkInvariants();
  }

  /**
   * A write the driver started for an accepted Ready landed, durably, through the entry (index, term)
   * (index 0: a write without entries). Writes must land in the order their Readys were accepted. A
   * leader counts its own log towards commit only from here.
   */
  persisted(index: number, term: number): void {
    const log = this.raft.log;
    if (index > 0) log.stableTo(index, term);
    this.raft.onPersisted();
    log.checkInvariants();
  }

  /** The app holds a snapshot at `index` (<= applied): drop log entries <= index. */
  compact(index: number): void {
    this.raft.compact(index);
  }

  /** The transport finished (ok) or failed sending a snapshot to `to`. */
  reportSnapshot(to: NodeId, ok: boolean): void {
    this.raft.reportSnapshot(to, ok);
  }

  reportUnreachable(to: NodeId): void {
    this.raft.reportUnreachable(to);
  }

  /**
   * The connection to `from` was reset (its process is gone): a follower of it campaigns now (see Raft).
   * True when `from` was this node's leader and it let go of it.
   */
  leaderConnectionLost(from: NodeId): boolean {
    return this.raft.leaderConnectionLost(from);
  }

  basicStatus(): BasicStatus {
    const raft = this.raft;
    return { term: raft.term, vote: raft.vote, role: raft.role, leader: raft.lead };
  }

  status(): RaftStatus {
    const raft = this.raft;
    const log = raft.log;
    const progress: FollowerProgress[] = [];
    if (raft.role === Role.Leader) {
      for (const [id, pr] of raft.tracker.progress) {
        if (id === raft.id) continue;
        progress.push({ id, match: pr.match, next: pr.next, state: pr.state, learner: pr.learner, recentActive: pr.recentActive });
      }
    }
    return {
      id: raft.id,
      role: raft.role,
      term: raft.term,
      leader: raft.lead,
      commit: log.committed,
      applied: log.applied,
      lastIndex: log.lastIndex(),
      firstIndex: log.firstIndex(),
      conf: cloneConfState(raft.tracker.conf),
      progress,
      transferee: raft.leader?.transferee ?? 0,
    };
  }

  private softState(): SoftState {
    return { leader: this.raft.lead, role: this.raft.role };
  }
}
