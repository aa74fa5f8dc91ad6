// The TCP side of the Kafka listener: frames in, frames out, one request at a time per connection (Kafka
// answers a connection's requests in order, so pipelined requests wait in a bounded queue). Every bound
// is named here: a frame larger than maxFrameBytes, a frame that trickles in slower than frameTimeoutMs,
// an idle connection and a connection beyond maxConnections are closed; nothing a peer sends reaches
// replicated state before it decoded completely.
import * as net from "node:net";
import type { Logger } from "pino";
import { correlationIdOf, frameSize, readRequestHeader, responseFrame, type RequestHeader } from "../../kafka/header";
import { KafkaDecodeError, type KafkaReader } from "../../kafka/wire";

export interface KafkaListenerBounds {
  /** Largest request frame (after its 4-byte size); a larger size prefix closes the connection. */
  maxFrameBytes: number;
  /** Connections open at once; more are closed as they arrive. */
  maxConnections: number;
  /** A frame must arrive whole within this long of its first byte. */
  frameTimeoutMs: number;
  /** A connection with no traffic for this long is closed. */
  idleTimeoutMs: number;
  /** Whole frames one connection may have waiting; beyond it the socket stops being read. */
  maxQueuedFrames: number;
}

/** Answers one request: its response body, or null for none (Produce with acks=0). Throws to close. */
export type KafkaRequestHandler = (header: RequestHeader, body: KafkaReader) => Promise<Uint8Array | null>;

export class KafkaListener {
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly address: string,
  ) {}

  static start(address: string, handle: KafkaRequestHandler, bounds: KafkaListenerBounds, logger: Logger): Promise<KafkaListener> {
    const [host, port] = splitAddress(address);
    const server = net.createServer();
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        const bound = server.address() as net.AddressInfo;
        const listener = new KafkaListener(server, `${host}:${bound.port}`);
        server.on("connection", (socket) => listener.accept(socket, handle, bounds, logger));
        server.on("error", (err) => logger.warn({ err }, "kafka listener error"));
        resolve(listener);
      });
    });
  }

  private accept(socket: net.Socket, handle: KafkaRequestHandler, bounds: KafkaListenerBounds, logger: Logger): void {
    if (this.sockets.size >= bounds.maxConnections) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    new KafkaConnection(socket, handle, bounds, logger).run();
  }

  /** Stops accepting and closes every connection. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(":");
  return [address.slice(0, at), Number(address.slice(at + 1))];
}

class KafkaConnection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly frames: Uint8Array[] = [];
  private working = false;
  private frameTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly handle: KafkaRequestHandler,
    private readonly bounds: KafkaListenerBounds,
    private readonly logger: Logger,
  ) {}

  run(): void {
    const s = this.socket;
    s.setNoDelay(true);
    s.setTimeout(this.bounds.idleTimeoutMs, () => s.destroy());
    s.on("data", (chunk: Buffer) => this.receive(chunk));
    s.on("error", () => s.destroy());
    s.on("close", () => clearTimeout(this.frameTimer));
  }

  private close(reason: string, err?: unknown): void {
    this.logger.debug({ err, remote: this.socket.remoteAddress }, `kafka connection closed: ${reason}`);
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    try {
      this.splitFrames();
    } catch (err) {
      this.close("bad frame", err);
      return;
    }
    this.armFrameTimer();
    if (this.frames.length >= this.bounds.maxQueuedFrames) this.socket.pause();
    void this.work();
  }

  // Chunks are joined only once a whole frame is in, so a large frame costs one copy, not one per chunk.
  private splitFrames(): void {
    while (this.buffered >= 4) {
      if (this.chunks[0].length < 4) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
      const size = frameSize(this.chunks[0].subarray(0, 4), this.bounds.maxFrameBytes);
      if (this.buffered < 4 + size) return;
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
      this.frames.push(all.subarray(4, 4 + size));
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
  }

  /** A partial frame must complete in time: a peer dribbling bytes cannot hold a connection forever. */
  private armFrameTimer(): void {
    clearTimeout(this.frameTimer);
    this.frameTimer = undefined;
    if (this.buffered > 0) this.frameTimer = setTimeout(() => this.close("frame timed out"), this.bounds.frameTimeoutMs);
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      while (this.frames.length > 0 && !this.socket.destroyed) {
        const frame = this.frames.shift() as Uint8Array;
        if (this.socket.isPaused() && this.frames.length < this.bounds.maxQueuedFrames) this.socket.resume();
        const response = await this.answer(frame);
        if (response === undefined) return;
        if (response !== null && !this.socket.write(response)) await this.drained();
      }
    } finally {
      this.working = false;
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        resolve();
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
  }

  /** The response frame, null for none, undefined when the connection was closed instead. */
  private async answer(frame: Uint8Array): Promise<Uint8Array | null | undefined> {
    let correlationId = 0;
    try {
      correlationId = correlationIdOf(frame);
      const { header, body } = readRequestHeader(frame);
      const response = await this.handle(header, body);
      return response === null ? null : responseFrame(correlationId, response);
    } catch (err) {
      if (!(err instanceof KafkaDecodeError)) this.logger.warn({ err, correlationId }, "kafka request failed");
      this.close(err instanceof Error ? err.message : "request failed", err);
      return undefined;
    }
  }
}
