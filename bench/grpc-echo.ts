// Measures the bare echo one call at a time: the echo server runs in its own process on this machine,
// like a Raftline node, and a 100-byte payload goes back and forth.
import * as grpc from "@grpc/grpc-js";
import { ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { echoMethodPath, isEchoReady } from "./grpc-echo-service";
import { LatencySummary, latencySummary } from "./broker-stats";

export interface EchoParams {
  calls: number;
  /** Calls made first and not measured (connection set-up, JIT). */
  warmupCalls: number;
  payloadBytes: number;
  timeoutMs: number;
}

export interface EchoResult extends LatencySummary {
  calls: number;
  callsPerSec: number;
}

const serverScript = join(__dirname, "grpc-echo-server.js");

function startEchoServer(deadlineMs: number): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(serverScript, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`echo server did not start within ${deadlineMs} ms`));
    }, deadlineMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`echo server exited (${signal ?? code}) before listening`));
    });
    child.on("message", (raw: unknown) => {
      if (!isEchoReady(raw)) return;
      clearTimeout(timer);
      resolve({ child, port: raw.port });
    });
  });
}

function echoOnce(client: grpc.Client, payload: Buffer, deadline: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest<Buffer, Buffer>(echoMethodPath, (b) => b, (b) => b, payload, { deadline }, (err, answer) => {
      if (err) reject(err);
      else if (!answer || answer.length !== payload.length) reject(new Error("echo answered different bytes"));
      else resolve();
    });
  });
}

export async function measureEcho(p: EchoParams): Promise<EchoResult> {
  const deadline = Date.now() + p.timeoutMs;
  const { child, port } = await startEchoServer(p.timeoutMs);
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const payload = Buffer.alloc(p.payloadBytes, 0x78);
  try {
    for (let i = 0; i < p.warmupCalls; i++) await echoOnce(client, payload, deadline);
    const latenciesMs = new Float64Array(p.calls);
    const t0 = performance.now();
    for (let i = 0; i < p.calls; i++) {
      const started = performance.now();
      await echoOnce(client, payload, deadline);
      latenciesMs[i] = performance.now() - started;
    }
    const seconds = (performance.now() - t0) / 1000;
    return { calls: p.calls, callsPerSec: p.calls / seconds, ...latencySummary(latenciesMs) };
  } finally {
    client.close();
    child.kill("SIGTERM");
  }
}
