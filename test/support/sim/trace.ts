// One line per simulated step, for failure reports and TRACE=1 replays.
import { Message, MessageType } from "../../../src/raft";
import { SimEvent } from "./cluster";

export function describeEvent(event: SimEvent): string {
  switch (event.kind) {
    case "tick":
      return `tick ${event.node}`;
    case "deliver":
      return `deliver ${describeMessage(event.msg)}`;
    case "snapshot-status":
      return `report snapshot ${event.from}->${event.to} ${event.ok ? "delivered" : "failed"}`;
    case "unreachable":
      return `report ${event.from}->${event.to} unreachable`;
    case "write-done":
      return `disk write done ${event.node}`;
    case "action":
      return event.label;
  }
}

export function describeMessage(m: Message): string {
  let text = `${MessageType[m.type]} ${m.from}->${m.to} term ${m.term}`;
  if (m.type === MessageType.App || m.type === MessageType.AppResp || m.type === MessageType.Vote || m.type === MessageType.PreVote) {
    text += ` index ${m.index} logTerm ${m.logTerm}`;
  }
  if (m.entries.length > 0) text += ` entries ${m.entries[0].index}..${m.entries[m.entries.length - 1].index}`;
  if (m.commit > 0) text += ` commit ${m.commit}`;
  if (m.reject) text += ` REJECT hint ${m.rejectHint}/${m.rejectHintTerm}`;
  if (m.snapshot !== undefined) text += ` snapshot ${m.snapshot.index}/${m.snapshot.term}`;
  if (m.context !== undefined) text += ` ctx ${m.context}`;
  return text;
}

/** Simulated times are fractional when clocks are skewed; a tenth of a millisecond is plenty. */
export function formatMs(ms: number): string {
  return String(Math.round(ms * 10) / 10);
}

export interface TracedStep {
  step: number;
  atMs: number;
  event: SimEvent;
  /** What the step did, when tracing in detail. */
  notes: string[];
}

export function describeStep(t: TracedStep): string {
  const head = `#${t.step} @${formatMs(t.atMs)}ms ${describeEvent(t.event)}`;
  return t.notes.length === 0 ? head : `${head} | ${t.notes.join(" | ")}`;
}

/** Keeps the last `capacity` steps; they are only turned into text when a run fails. */
export class TraceRing {
  private readonly steps: TracedStep[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  push(step: TracedStep): void {
    if (this.steps.length < this.capacity) this.steps.push(step);
    else this.steps[this.next] = step;
    this.next = (this.next + 1) % this.capacity;
  }

  lines(): string[] {
    const ordered = this.steps.length < this.capacity ? this.steps : [...this.steps.slice(this.next), ...this.steps.slice(0, this.next)];
    return ordered.map(describeStep);
  }
}
