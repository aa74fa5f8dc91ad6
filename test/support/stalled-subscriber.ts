// Subscribe streams whose reader never reads, sent over plain HTTP/2: flow control stops the node's writes
// after the first window, so everything else the node would send waits at the node. (A grpc-js client
// would first read about a megabyte ahead into its own buffers.) What a slow or stuck consumer costs.
import { connect, type ClientHttp2Session } from "node:http2";
import type { SubscribeRequest } from "../../src/generated/raftline/v1/SubscribeRequest";
import { publicApi } from "../../src/server/public-proto";

/** One HTTP/2 connection to `address` carrying stalled Subscribe streams; close() drops them all. */
export class StalledSubscribers {
  private readonly session: ClientHttp2Session;
  private opened = 0;

  constructor(address: string) {
    this.session = connect(`http://${address}`);
    this.session.on("error", () => undefined);
  }

  get count(): number {
    return this.opened;
  }

  open(request: SubscribeRequest): void {
    const body = publicApi().Consumer.service.Subscribe.requestSerialize(request);
    const frame = Buffer.alloc(5 + body.length);
    frame.writeUInt32BE(body.length, 1);
    body.copy(frame, 5);
    const stream = this.session.request({
      ":method": "POST",
      ":path": "/raftline.v1.Consumer/Subscribe",
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.on("error", () => undefined);
    stream.end(frame);
    stream.pause();
    this.opened++;
  }

  close(): void {
    this.session.destroy();
  }
}
