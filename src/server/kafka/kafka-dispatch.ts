// One Kafka request in, its response body out: the version is checked, the body decoded completely
// (trailing bytes are an error), the handler run, the answer encoded in the request's version.
import * as admin from "../../kafka/admin";
import { decodeDescribeConfigsRequest, encodeDescribeConfigsResponse } from "../../kafka/configs";
import * as fetchCodec from "../../kafka/fetch";
import * as groups from "../../kafka/groups";
import { expectEnd, type RequestHeader } from "../../kafka/header";
import { encodeApiVersionsResponse, decodeMetadataRequest, encodeMetadataResponse } from "../../kafka/metadata";
import { decodeProduceRequest, encodeProduceResponse } from "../../kafka/produce";
import { ApiKey, KafkaError, isSupported } from "../../kafka/protocol";
import { KafkaDecodeError, type KafkaReader } from "../../kafka/wire";
import { createTopic, deleteTopic, initProducerId } from "./kafka-admin";
import { describeConfigs } from "./kafka-configs";
import { fetch, listOffsets } from "./kafka-fetch";
import { coordinator, metadata } from "./kafka-metadata";
import type { KafkaNode } from "./kafka-node";
import { commitOffsets, fetchOffsets } from "./kafka-offsets";
import { produce } from "./kafka-produce";

export async function dispatch(node: KafkaNode, header: RequestHeader, r: KafkaReader): Promise<Uint8Array | null> {
  const v = header.apiVersion;
  if (!isSupported(header.apiKey, v)) {
    // As Kafka does: an ApiVersions the broker cannot parse is answered in the v0 layout, so the client
    // learns the versions and retries; any other unknown key or version closes the connection.
    if (header.apiKey === ApiKey.ApiVersions) return encodeApiVersionsResponse(0, KafkaError.UnsupportedVersion);
    throw new KafkaDecodeError(`api key ${header.apiKey} version ${v} is not supported`);
  }
  const { ctx } = node;
  const decoded = <T>(value: T, what: string): T => {
    expectEnd(r, what);
    return value;
  };
  switch (header.apiKey as ApiKey) {
    case ApiKey.ApiVersions:
      return encodeApiVersionsResponse(v, KafkaError.None);
    case ApiKey.Metadata:
      return encodeMetadataResponse(v, metadata(ctx, decoded(decodeMetadataRequest(r, v), "Metadata")));
    case ApiKey.Produce: {
      const topics = await produce(node, decoded(decodeProduceRequest(r), "Produce"));
      return topics === null ? null : encodeProduceResponse(v, topics);
    }
    case ApiKey.Fetch:
      return fetchCodec.encodeFetchResponse(v, await fetch(ctx, decoded(fetchCodec.decodeFetchRequest(r, v), "Fetch")));
    case ApiKey.ListOffsets:
      return fetchCodec.encodeListOffsetsResponse(v, await listOffsets(ctx, decoded(fetchCodec.decodeListOffsetsRequest(r, v), "ListOffsets")));
    case ApiKey.FindCoordinator:
      decoded(groups.decodeFindCoordinatorRequest(r, v), "FindCoordinator");
      return groups.encodeFindCoordinatorResponse(v, coordinator(ctx));
    case ApiKey.JoinGroup: {
      const req = decoded(groups.decodeJoinGroupRequest(r, v), "JoinGroup");
      return groups.encodeJoinGroupResponse(v, await node.groups.join(req, header.clientId ?? ""));
    }
    case ApiKey.SyncGroup: {
      const res = await node.groups.sync(decoded(groups.decodeSyncGroupRequest(r, v), "SyncGroup"));
      return groups.encodeSyncGroupResponse(v, res.errorCode, res.assignment);
    }
    case ApiKey.Heartbeat:
      return groups.encodeErrorOnlyResponse(v, node.groups.heartbeat(decoded(groups.decodeHeartbeatRequest(r, v), "Heartbeat")));
    case ApiKey.LeaveGroup: {
      const req = decoded(groups.decodeLeaveGroupRequest(r, v), "LeaveGroup");
      const res = node.groups.leave(req.groupId, req.memberIds);
      return groups.encodeLeaveGroupResponse(v, res.errorCode, res.members);
    }
    case ApiKey.OffsetCommit:
      return groups.encodeOffsetCommitResponse(v, await commitOffsets(node, decoded(groups.decodeOffsetCommitRequest(r, v), "OffsetCommit")));
    case ApiKey.OffsetFetch: {
      const res = fetchOffsets(node, decoded(groups.decodeOffsetFetchRequest(r), "OffsetFetch"));
      return groups.encodeOffsetFetchResponse(v, res.topics, res.errorCode);
    }
    case ApiKey.InitProducerId:
      return admin.encodeInitProducerIdResponse(await initProducerId(ctx, decoded(admin.decodeInitProducerIdRequest(r), "InitProducerId").transactionalId));
    case ApiKey.CreateTopics: {
      const req = decoded(admin.decodeCreateTopicsRequest(r, v), "CreateTopics");
      const results = await Promise.all(req.topics.map((t) => createTopic(ctx, t, req.timeoutMs, req.validateOnly)));
      return admin.encodeCreateTopicsResponse(v, results);
    }
    case ApiKey.DeleteTopics: {
      const req = decoded(admin.decodeDeleteTopicsRequest(r), "DeleteTopics");
      return admin.encodeDeleteTopicsResponse(v, await Promise.all(req.names.map((name) => deleteTopic(ctx, name, req.timeoutMs))));
    }
    case ApiKey.DescribeConfigs:
      return encodeDescribeConfigsResponse(v, describeConfigs(ctx, decoded(decodeDescribeConfigsRequest(r, v), "DescribeConfigs")));
  }
}
