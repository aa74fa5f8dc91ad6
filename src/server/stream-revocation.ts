// Ending a stream its handler is still serving, from outside the handler: when the caller's token or
// permission is withdrawn while the stream is open. The handler sees the call cancelled, as if the client
// had gone (every streaming handler already stops and releases what it holds then); the client gets the
// given status; whatever the handler still writes, ends or fails with afterwards is dropped, and messages
// the client still sends are not delivered.
import type * as grpc from "@grpc/grpc-js";

export type ServerStreamCall = grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/** Wraps `call` (before its handler runs) and returns the function that ends it with a status. */
export function revocable(call: ServerStreamCall): (status: grpc.ServiceError) => void {
  const emit = call.emit.bind(call);
  const write = call.write.bind(call) as (...args: unknown[]) => boolean;
  const end = call.end.bind(call) as (...args: unknown[]) => unknown;
  let revoked = false;
  let ending = false;
  call.emit = (event: string | symbol, ...args: unknown[]): boolean =>
    revoked && (event === "data" || event === "end" || event === "error") ? true : emit(event, ...args);
  call.write = ((...args: unknown[]): boolean => {
    if (!revoked) return write(...args);
    const done = args.find((a): a is () => void => typeof a === "function");
    if (done) process.nextTick(done);
    return true;
  }) as typeof call.write;
  call.end = ((...args: unknown[]) => (revoked && !ending ? call : end(...args))) as typeof call.end;
  return (status) => {
    if (revoked || call.cancelled) return;
    revoked = true;
    if ("pause" in call) call.pause();
    call.cancelled = true;
    emit("cancelled", "revoked");
    // grpc-js answers an "error" on the stream with that status once queued responses are sent, by ending
    // the stream itself: that one end must go through.
    ending = true;
    emit("error", status);
    ending = false;
  };
}
