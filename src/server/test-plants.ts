// Test only: bugs a test can plant in a running node to prove its checker finds them (the contract
// fuzzer's power test). Read once from RAFTLINE_TEST_PLANT; unset in any real deployment, where every
// plant is off. Plants:
//   enum-unvalidated   requests with an enum value outside its enum are accepted (acks read as QUORUM)
//   refusal-writes     DeleteTopic of an unknown topic writes a (harmless) entry to the log before it
//                      answers NOT_FOUND, so a refused call changes the cluster's state
//   kafka-silent-refusal   a Kafka frame that does not decode is neither answered nor closed on
//   kafka-wrong-correlation  Kafka answers carry the next correlation id (answers mixed up on a connection)
export type TestPlant = "enum-unvalidated" | "refusal-writes" | "kafka-silent-refusal" | "kafka-wrong-correlation";

const planted = process.env.RAFTLINE_TEST_PLANT ?? "";

export function isPlanted(plant: TestPlant): boolean {
  return planted === plant;
}
