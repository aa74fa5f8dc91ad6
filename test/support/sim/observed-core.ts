// The real core, watched: every call the replica loop makes into RawNode passes through here first, so
// the simulated node can record what the checkers need (terms started, votes in a lease, proposals during
// a transfer, what each Ready commits) without re-implementing the loop that makes the calls.
import { ConfChange, ConfState, Message, MessageType, NodeId, ProposeResult, RaftConfig, RaftState, Random, RawNode, Ready } from "../../../src/raft";

export interface CoreObserver {
  /** Runs one input of the core; `cause` says what kind of campaign it may start. */
  watchTerm(cause: "election" | "transfer", input: () => void): void;
  /** Before the core takes `msg`. */
  beforeStep(msg: Message): void;
  /** After the core took `msg`. */
  afterStep(msg: Message): void;
  /** The Ready the loop will work on: the core's, or a planted bug's version of it. */
  readyOut(rd: Ready): Ready;
  /** The Ready the core handed out for the one the loop accepts. */
  readyBack(rd: Ready): Ready;
  proposed(result: ProposeResult): void;
  transferAccepted(to: NodeId, result: ProposeResult): void;
  confApplied(cc: ConfChange, conf: ConfState): void;
}

export class ObservedRawNode extends RawNode {
  constructor(
    config: RaftConfig,
    state: RaftState,
    random: Random,
    private readonly observer: CoreObserver,
  ) {
    super(config, state, random);
  }

  override tick(): void {
    this.observer.watchTerm("election", () => super.tick());
  }

  override step(msg: Message): void {
    this.observer.beforeStep(msg);
    this.observer.watchTerm(msg.type === MessageType.TimeoutNow ? "transfer" : "election", () => super.step(msg));
    this.observer.afterStep(msg);
  }

  override campaign(): void {
    this.observer.watchTerm("election", () => super.campaign());
  }

  override leaderConnectionLost(from: NodeId): boolean {
    let campaigned = false;
    this.observer.watchTerm("election", () => {
      campaigned = super.leaderConnectionLost(from);
    });
    return campaigned;
  }

  override propose(data: Uint8Array[]): ProposeResult {
    const result = super.propose(data);
    this.observer.proposed(result);
    return result;
  }

  override proposeConfChange(cc: ConfChange): ProposeResult {
    const result = super.proposeConfChange(cc);
    this.observer.proposed(result);
    return result;
  }

  override transferLeadership(to: NodeId): ProposeResult {
    const result = super.transferLeadership(to);
    this.observer.transferAccepted(to, result);
    return result;
  }

  override applyConfChange(cc: ConfChange): ConfState {
    const conf = super.applyConfChange(cc);
    this.observer.confApplied(cc, conf);
    return conf;
  }

  override ready(): Ready {
    return this.observer.readyOut(super.ready());
  }

  override accept(rd: Ready): void {
    super.accept(this.observer.readyBack(rd));
  }
}
