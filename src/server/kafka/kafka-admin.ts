// InitProducerId, CreateTopics and DeleteTopics: commands through the log on the leader, as the gRPC
// InitProducer, CreateTopic and DeleteTopic do them; a follower forwards them one hop over gRPC.
import * as grpc from "@grpc/grpc-js";
import { CommandKind, type Command } from "../../broker";
import type { CreateTopicResponse__Output } from "../../generated/raftline/v1/CreateTopicResponse";
import type { DeleteTopicResponse__Output } from "../../generated/raftline/v1/DeleteTopicResponse";
import type { InitProducerResponse__Output } from "../../generated/raftline/v1/InitProducerResponse";
import type { CreateTopicSpec, TopicResult } from "../../kafka/admin";
import { KafkaError } from "../../kafka/protocol";
import type { NodeContext } from "../node-context";
import { callUnary, commit, onLeader } from "../services/rpc";
import { kafkaFailure } from "./kafka-errors";

/** Longest an admin request waits for its commit, whatever timeout the client gave. */
const maxAdminTimeoutMs = 30_000;

/** onLeader's view of a Kafka request: no metadata, and a deadline from the client's timeout. */
function asCall(ctx: NodeContext, timeoutMs: number): { metadata: grpc.Metadata; getDeadline(): grpc.Deadline } {
  const deadline = new Date(ctx.now() + Math.min(timeoutMs > 0 ? timeoutMs : maxAdminTimeoutMs, maxAdminTimeoutMs));
  return { metadata: new grpc.Metadata(), getDeadline: () => deadline };
}

/** Kafka's producer epoch is an int16: Raftline's grows past it only after 32,767 re-inits of one id. */
const maxKafkaEpoch = 0x7fff;

export async function initProducerId(ctx: NodeContext, transactionalId: string | null): Promise<{ errorCode: KafkaError; producerId: number; producerEpoch: number }> {
  if (transactionalId !== null) return { errorCode: KafkaError.InvalidRequest, producerId: -1, producerEpoch: -1 };
  try {
    const res = await onLeader(
      ctx,
      asCall(ctx, maxAdminTimeoutMs),
      "write",
      async () => {
        const result = await commit(ctx, { kind: CommandKind.InitProducer, nowMs: ctx.now(), producerId: 0 }, ctx.now() + maxAdminTimeoutMs);
        if (result.kind !== "producerInitialized") throw new Error(`unexpected apply result ${result.kind}`);
        return { producerId: result.producerId, producerEpoch: result.epoch };
      },
      (leader, md, deadline) => {
        const client = ctx.forwarder.producer(leader);
        return callUnary<InitProducerResponse__Output>((cb) => client.InitProducer({ producerId: 0 }, md, { deadline }, cb));
      },
    );
    if (res.producerEpoch > maxKafkaEpoch) return { errorCode: KafkaError.InvalidProducerEpoch, producerId: -1, producerEpoch: -1 };
    return { errorCode: KafkaError.None, producerId: res.producerId, producerEpoch: res.producerEpoch };
  } catch (err) {
    return { errorCode: kafkaFailure(err).errorCode, producerId: -1, producerEpoch: -1 };
  }
}

/** Topic configs Raftline has, by their Kafka names; others are ignored. */
function topicSettings(spec: CreateTopicSpec): { retentionMs: number; retentionBytes: number; maxRecordBytes: number } {
  const number = (name: string): number => {
    const value = spec.configs.find((c) => c.name === name)?.value;
    const n = value === undefined || value === null ? 0 : Number(value);
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  };
  return { retentionMs: number("retention.ms"), retentionBytes: number("retention.bytes"), maxRecordBytes: number("max.message.bytes") };
}

/** Partitions a CreateTopics with num_partitions -1 gets. */
export const defaultPartitions = 1;

export async function createTopic(ctx: NodeContext, spec: CreateTopicSpec, timeoutMs: number, validateOnly: boolean): Promise<TopicResult> {
  const voters = ctx.replica.membership.voters.length;
  // Every node holds every partition: any replication factor up to the cluster's size is met by it.
  if (spec.replicationFactor !== -1 && (spec.replicationFactor < 1 || spec.replicationFactor > voters)) {
    return { name: spec.name, errorCode: KafkaError.InvalidReplicationFactor, errorMessage: `replication factor must be 1..${voters}` };
  }
  if (spec.hasAssignments) return { name: spec.name, errorCode: KafkaError.InvalidRequest, errorMessage: "manual replica assignment is not supported" };
  const command: Command = {
    kind: CommandKind.CreateTopic,
    nowMs: ctx.now(),
    name: spec.name,
    partitions: spec.numPartitions === -1 ? defaultPartitions : spec.numPartitions,
    ...topicSettings(spec),
  };
  try {
    await onLeader(
      ctx,
      asCall(ctx, timeoutMs),
      "write",
      async () => {
        ctx.machine.state.checkCreateTopic(command);
        if (!validateOnly) await commit(ctx, command, ctx.now() + maxAdminTimeoutMs);
        return {};
      },
      (leader, md, deadline) => {
        if (validateOnly) return Promise.resolve({});
        const c = ctx.forwarder.admin(leader);
        const req = { name: command.name, partitions: command.partitions, retentionMs: command.retentionMs, retentionBytes: command.retentionBytes, maxRecordBytes: command.maxRecordBytes };
        return callUnary<CreateTopicResponse__Output>((cb) => c.CreateTopic(req, md, { deadline }, cb));
      },
    );
    return { name: spec.name, errorCode: KafkaError.None, errorMessage: null };
  } catch (err) {
    const failure = kafkaFailure(err);
    const errorCode = failure.errorCode === KafkaError.InvalidRecord ? KafkaError.InvalidRequest : failure.errorCode;
    return { name: spec.name, errorCode, errorMessage: failure.message };
  }
}

export async function deleteTopic(ctx: NodeContext, name: string, timeoutMs: number): Promise<TopicResult> {
  try {
    await onLeader(
      ctx,
      asCall(ctx, timeoutMs),
      "write",
      async () => {
        ctx.machine.state.requireTopic(name);
        await commit(ctx, { kind: CommandKind.DeleteTopic, nowMs: ctx.now(), name }, ctx.now() + maxAdminTimeoutMs);
        return {};
      },
      (leader, md, deadline) => {
        const c = ctx.forwarder.admin(leader);
        return callUnary<DeleteTopicResponse__Output>((cb) => c.DeleteTopic({ name }, md, { deadline }, cb));
      },
    );
    return { name, errorCode: KafkaError.None, errorMessage: null };
  } catch (err) {
    return { name, errorCode: kafkaFailure(err).errorCode, errorMessage: null };
  }
}
