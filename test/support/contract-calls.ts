// Raw calls for contract tests: any bytes to any method (as a broken or foreign client would send them),
// and the status, reason and message size of a failed call.
import * as grpc from "@grpc/grpc-js";

export interface CallFailure {
  code: grpc.status;
  reason: string;
  details: string;
  /** Bytes of the status message and every trailer, as the client received them. */
  trailerBytes: number;
  leaderId: string;
}

/** What a failed call told its client. */
export function failureOf(err: unknown): CallFailure {
  const e = err as grpc.ServiceError;
  const md = e.metadata ?? new grpc.Metadata();
  const first = (key: string): string => {
    const v = md.get(key)[0];
    return v === undefined ? "" : String(v);
  };
  let trailerBytes = Buffer.byteLength(e.details ?? "", "utf8");
  for (const [key, values] of Object.entries(md.toJSON())) {
    for (const v of values) trailerBytes += key.length + (typeof v === "string" ? Buffer.byteLength(v) : v.length);
  }
  return { code: e.code, reason: first("raftline-error-reason"), details: e.details ?? "", trailerBytes, leaderId: first("raftline-leader-id") };
}

const identity = (b: Buffer): Buffer => b;

/** A client that sends and receives raw bytes for any method path (e.g. "/raftline.v1.Producer/Produce"). */
export class RawBytesClient {
  private readonly client: grpc.Client;

  constructor(address: string, credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {
    this.client = new grpc.Client(address, credentials);
  }

  unary(path: string, bytes: Buffer, deadlineMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(path, identity, identity, bytes, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => {
        if (err) reject(err);
        else resolve(res ?? Buffer.alloc(0));
      });
    });
  }

  /** A server-streaming call: resolves with the responses once the stream ends, or rejects with its status. */
  serverStream(path: string, bytes: Buffer, deadlineMs: number, maxResponses: number): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      const responses: Buffer[] = [];
      const call = this.client.makeServerStreamRequest(path, identity, identity, bytes, new grpc.Metadata(), { deadline: Date.now() + deadlineMs });
      call.on("data", (b: Buffer) => {
        responses.push(b);
        if (responses.length >= maxResponses) call.cancel();
      });
      call.on("error", (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED && responses.length >= maxResponses ? resolve(responses) : reject(err)));
      call.on("end", () => resolve(responses));
    });
  }

  /** A bidi call: writes every message, half-closes, resolves with the responses or rejects with the status. */
  bidi(path: string, messages: Buffer[], deadlineMs: number): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      const responses: Buffer[] = [];
      const call = this.client.makeBidiStreamRequest(path, identity, identity, new grpc.Metadata(), { deadline: Date.now() + deadlineMs });
      call.on("data", (b: Buffer) => responses.push(b));
      call.on("error", reject);
      call.on("end", () => resolve(responses));
      for (const m of messages) call.write(m);
      call.end();
    });
  }

  close(): void {
    this.client.close();
  }
}
