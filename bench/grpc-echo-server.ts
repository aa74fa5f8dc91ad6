// A child process serving the bare echo on 127.0.0.1 (an ephemeral port, reported over IPC). It runs
// until its parent disconnects or signals it.
import * as grpc from "@grpc/grpc-js";
import { EchoReady, echoHandlers, echoServiceDefinition } from "./grpc-echo-service";

const server = new grpc.Server();
server.addService(echoServiceDefinition, echoHandlers);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  const ready: EchoReady = { kind: "echo-ready", port };
  process.send?.(ready);
});
const stop = (): void => {
  server.forceShutdown();
  process.exit(0);
};
process.on("disconnect", stop);
process.on("SIGTERM", stop);
