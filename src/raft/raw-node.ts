// The thin API the driver calls: tick, step, propose, then drain one Ready and advance.
import {
  ConfChange,
  ConfState,
  Message,
  NodeId,
  ProposalErrorCode,
  ProposeResult,
  RaftConfig,
  RaftState,
  RaftStatus,
  Random,
  Ready,
  Role,
} from "./types";

export class RawNode {
  private readonly config: RaftConfig;
  private readonly state: RaftState;

  constructor(config: RaftConfig, state: RaftState, random: Random) {
    this.config = config;
    this.state = state;
    void random;
  }

  tick(): void {}

  step(msg: Message): void {
    void msg;
  }

  propose(data: Uint8Array[]): ProposeResult {
    void data;
    return this.notLeader();
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    void cc;
    return this.notLeader();
  }

  applyConfChange(cc: ConfChange): ConfState {
    void cc;
    return this.state.conf;
  }

  readIndex(context: string): ProposeResult {
    void context;
    return this.notLeader();
  }

  transferLeadership(to: NodeId): ProposeResult {
    void to;
    return this.notLeader();
  }

  campaign(): void {}

  hasReady(): boolean {
    return false;
  }

  ready(): Ready {
    return { entries: [], messages: [], committedEntries: [], readStates: [], mustSync: false };
  }

  advance(rd: Ready): void {
    void rd;
  }

  compact(index: number): void {
    void index;
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    void to;
    void ok;
  }

  reportUnreachable(to: NodeId): void {
    void to;
  }

  status(): RaftStatus {
    return {
      id: this.config.id,
      role: Role.Follower,
      term: this.state.hardState.term,
      leader: 0,
      commit: this.state.hardState.commit,
      applied: this.state.applied,
      lastIndex: this.state.snapshot.index + this.state.entries.length,
      firstIndex: this.state.snapshot.index + 1,
      conf: this.state.conf,
      progress: [],
      transferee: 0,
    };
  }

  private notLeader(): ProposeResult {
    return { ok: false, code: ProposalErrorCode.NotLeader, leader: 0, message: "not the leader" };
  }
}
