// grpc.health.v1 Check, with the health.proto shipped by grpc-health-check.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { protoPath } from "grpc-health-check";

type HealthStub = grpc.Client & {
  Check(req: { service: string }, opts: grpc.CallOptions, cb: grpc.requestCallback<{ status: string }>): void;
};

const definition = protoLoader.loadSync(protoPath, { enums: String });
const Health = (grpc.loadPackageDefinition(definition) as unknown as {
  grpc: { health: { v1: { Health: new (address: string, creds: grpc.ChannelCredentials) => HealthStub } } };
}).grpc.health.v1.Health;

/** The node's answer for `service` ("" = the whole node): SERVING, NOT_SERVING, or the error's message. */
export async function checkHealth(address: string, service: string, timeoutMs = 1000): Promise<string> {
  const client = new Health(address, grpc.credentials.createInsecure());
  try {
    return await new Promise<string>((resolve) =>
      client.Check({ service }, { deadline: Date.now() + timeoutMs }, (err, res) => resolve(err ? `error: ${err.message}` : String(res?.status))),
    );
  } finally {
    client.close();
  }
}
