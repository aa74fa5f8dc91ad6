// What the gRPC services of one node share: its replica, applied broker state, storage and peers.
import type { Logger } from "pino";
import type { CommandResult, StickyPartitioner } from "../broker";
import type { Db } from "../storage/db";
import type { AddressBook } from "./address-book";
import type { ApplySignal } from "./apply-signal";
import type { BrokerMachine } from "./broker-machine";
import type { NodeConfig } from "./config";
import type { LeaderForwarder } from "./leader-forwarder";
import type { ReadBudget } from "./read-budget";
import type { Replica } from "./replica";
import type { StorageDamage } from "./storage-damage";
import type { TrafficCounters } from "./traffic";

export interface NodeContext {
  config: NodeConfig;
  replica: Replica<CommandResult>;
  machine: BrokerMachine;
  db: Db;
  forwarder: LeaderForwarder;
  sticky: StickyPartitioner;
  /** Fires after applied entries are written, so readers woken by it find them in storage. */
  applied: ApplySignal;
  /** What Subscribe streams and long polls may cost this node. */
  reads: ReadBudget;
  logger: Logger;
  now(): number;
  /** Where services report the records they move (metrics). */
  traffic: TrafficCounters;
  /** host:port of this node's HTTP server once bound; undefined when it has none. */
  httpAddress(): string | undefined;
  /** A member's client address, for leader hints. */
  clientAddressOf(id: number): string | undefined;
  /** The cluster this node's data belongs to. */
  clusterId: string;
  /** Where every member (bootstrap or added since) is reached. */
  addressBook: AddressBook;
  /** Damage found in this node's stored data: reads are refused once there is some. */
  damage: StorageDamage;
}
