// DescribeConfigs (v0-v2). v1 replaced v0's is_default with a config source and added synonyms (always
// answered empty here); v2 has v1's layout.
import type { KafkaError } from "./protocol";
import { KafkaReader, KafkaWriter } from "./wire";

export enum ResourceType {
  Topic = 2,
  Broker = 4,
}

/** Where a value comes from (DescribeConfigsResponse config_source). */
export enum ConfigSource {
  DynamicTopicConfig = 1,
  StaticBrokerConfig = 4,
  DefaultConfig = 5,
}

export interface ConfigResource {
  resourceType: number;
  resourceName: string;
  /** Null or empty: every config of the resource. */
  configNames: string[] | null;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: ConfigSource;
  isSensitive: boolean;
}

export interface ConfigResult {
  errorCode: KafkaError;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
  configs: ConfigEntry[];
}

export function decodeDescribeConfigsRequest(r: KafkaReader, version: number): ConfigResource[] {
  const resources = r.array(
    "resources",
    (r) => ({
      resourceType: r.int8("resource_type"),
      resourceName: r.string("resource_name"),
      configNames: r.nullableArray("configuration_keys", (r) => r.string("configuration_key"), 2),
    }),
    7,
  );
  if (version >= 1) r.boolean("include_synonyms");
  return resources;
}

export function encodeDescribeConfigsResponse(version: number, results: readonly ConfigResult[]): Uint8Array {
  const w = new KafkaWriter();
  w.int32(0);
  w.array(results, (w, res) => {
    w.int16(res.errorCode).nullableString(res.errorMessage).int8(res.resourceType).string(res.resourceName);
    w.array(res.configs, (w, c) => {
      w.string(c.name).nullableString(c.value).boolean(c.readOnly);
      if (version === 0) w.boolean(c.source === ConfigSource.DefaultConfig);
      else w.int8(c.source);
      w.boolean(c.isSensitive);
      if (version >= 1) w.int32(0);
    });
  });
  return w.finish();
}
