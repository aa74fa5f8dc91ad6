// A client that opens one Subscribe stream and then does nothing: the tests freeze it (SIGSTOP) to check
// that a node finds and reaps connections whose client stopped answering. Usage: ADDRESS TOPIC.
import * as grpc from "@grpc/grpc-js";
import { publicApi } from "../../src/server/public-proto";

const [address, topic] = process.argv.slice(2);
const consumer = new (publicApi().Consumer)(address, grpc.credentials.createInsecure());
const stream = consumer.Subscribe({ topic, partition: 0, position: "START_POSITION_LATEST" });
// Headers arrive once the node admitted the stream: only then is it holding a slot there.
stream.on("metadata", () => process.stdout.write("subscribed\n"));
stream.on("error", (err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
