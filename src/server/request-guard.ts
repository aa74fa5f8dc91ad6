// Every request is the caller's to get right, never a server bug: bytes that do not decode answer
// INVALID_ARGUMENT + MALFORMED_REQUEST (not grpc-js's INTERNAL "Error deserializing request"), and an
// enum field holding a number its enum does not define answers INVALID_ARGUMENT + INVALID_FIELD. Both
// checks run for every method of every service added through `guardedService`, before its handler.
// With security on, the call is first authenticated and then authorized by the table of
// security/rpc-access.ts (every message of a request stream is authorized as it arrives); a refused call
// or message never reaches the handler, so it changes nothing.
import * as grpc from "@grpc/grpc-js";
import type { MessageDescriptor, ProtoTypes } from "./proto-descriptors";
import { RpcError, boundedText, toGrpcError } from "./rpc-errors";
import type { AccessControl, CallIdentity } from "./security/access-control";
import { OpenStream } from "./security/open-streams";
import { rpcAccess } from "./security/rpc-access";
import { type ServerStreamCall, revocable } from "./stream-revocation";
import { isPlanted } from "./test-plants";

/** What a request deserializes to when its bytes are not a valid message. */
export class MalformedRequest {
  constructor(readonly detail: string) {}
}

interface GuardedMethod {
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestDeserialize: (bytes: Buffer) => unknown;
  requestType?: { type: object };
}

/** Why `request` must be refused before its handler sees it, or undefined. */
export function requestError(request: unknown, type: MessageDescriptor | undefined, types: ProtoTypes): RpcError | undefined {
  if (request instanceof MalformedRequest) {
    return new RpcError(grpc.status.INVALID_ARGUMENT, "ERROR_REASON_MALFORMED_REQUEST", `the request does not decode: ${request.detail}`);
  }
  const bad = type && !isPlanted("enum-unvalidated") ? unknownEnum(request, type, types, "") : undefined;
  return bad ? new RpcError(grpc.status.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD", bad) : undefined;
}

/** The first enum field (by path) set to a number outside its enum, described; undefined if none. */
function unknownEnum(value: unknown, type: MessageDescriptor, types: ProtoTypes, prefix: string): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const fields = value as Record<string, unknown>;
  for (const field of type.field) {
    const inner = field.type === "TYPE_MESSAGE" ? types.message(field.typeName) : undefined;
    // Only enum fields and messages that hold one are walked: records and headers never are.
    if (field.type !== "TYPE_ENUM" && !(inner && types.hasEnums(inner))) continue;
    const v = fields[field.name];
    if (v === undefined || v === null) continue;
    const path = prefix + field.name;
    for (const item of Array.isArray(v) ? v : [v]) {
      if (inner) {
        const found = unknownEnum(item, inner, types, `${path}.`);
        if (found) return found;
      } else if (typeof item === "number") {
        const e = types.enumType(field.typeName);
        const valid = e.value.map((x) => x.name).join(", ");
        return `${path}: ${item} is not a value of ${e.name} (${valid})`;
      }
    }
  }
  return undefined;
}

/**
 * The definition with deserializers that never throw, and handlers that answer refused requests
 * themselves. A request stream ends with the refusal after its first malformed message (whose correlation
 * is unknown); its enum values are left to the handler, which can answer them in-band.
 */
export function guardedService(
  definition: grpc.ServiceDefinition,
  handlers: grpc.UntypedServiceImplementation,
  types: ProtoTypes,
  leaderAddress: (id: number) => string | undefined,
  access?: AccessControl,
): { definition: grpc.ServiceDefinition; handlers: grpc.UntypedServiceImplementation } {
  const guardedDefinition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const guardedHandlers: grpc.UntypedServiceImplementation = {};
  for (const [name, raw] of Object.entries(definition)) {
    const method = raw as unknown as GuardedMethod;
    const type = method.requestType ? (method.requestType.type as MessageDescriptor) : undefined;
    guardedDefinition[name] = { ...(raw as grpc.MethodDefinition<unknown, unknown>), requestDeserialize: tolerant(method.requestDeserialize) };
    const handler = handlers[name];
    const need = rpcAccess[method.path];
    const asStatus = (err: RpcError | undefined): grpc.ServiceError | undefined =>
      err ? (toGrpcError(err, leaderAddress) as grpc.ServiceError) : undefined;
    // A stream message's enum values are left to the handler, which answers them in-band.
    const malformed = (request: unknown): grpc.ServiceError | undefined =>
      request instanceof MalformedRequest ? asStatus(requestError(request, type, types)) : undefined;
    const admit: Admit = (call) => {
      if (!access) return { refuse: (request) => asStatus(requestError(request, type, types)), refuseMessage: malformed };
      const principal = access.authenticate(call);
      if (principal instanceof RpcError) return { failure: asStatus(principal) };
      const denied = (request: unknown): grpc.ServiceError | undefined => asStatus(access.authorize(principal, need, request));
      // Only a principal that can lose its standing is followed: nodes, and the superuser by certificate or
      // by the configured token, cannot.
      const track: Track | undefined =
        (principal.superuser || principal.node) && principal.tokenHash === undefined
          ? undefined
          : (call) => {
              const revoke = revocable(call);
              const stream = new OpenStream(principal, (err) => revoke(toGrpcError(err, leaderAddress) as grpc.ServiceError));
              const close = access.streams.open(stream);
              for (const event of ["finish", "close", "cancelled", "error"]) call.once(event, close);
              return (request) => {
                if (need?.kind === "access") stream.admitted(need.of(request));
              };
            };
      return {
        refuse: (request) => malformed(request) ?? denied(request) ?? asStatus(requestError(request, type, types)),
        refuseMessage: (message) => malformed(message) ?? denied(message),
        track,
      };
    };
    guardedHandlers[name] = method.requestStream ? guardStream(handler, admit) : guardSingle(handler, method.responseStream, admit);
  }
  return { definition: guardedDefinition, handlers: guardedHandlers };
}

function tolerant(deserialize: (bytes: Buffer) => unknown): (bytes: Buffer) => unknown {
  return (bytes) => {
    try {
      return deserialize(bytes);
    } catch (err) {
      return new MalformedRequest(boundedText(err instanceof Error ? err.message : String(err), 200));
    }
  };
}

type Refuse = (request: unknown) => grpc.ServiceError | undefined;
/** Records the accesses of a stream's admitted request (or message). */
type Admitted = (request: unknown) => void;
/**
 * With security on, follows a stream from its admission to its end (wrapping the call before its handler
 * runs), so that a change of ACLs or tokens can end it (security/open-streams.ts).
 */
type Track = (call: ServerStreamCall) => Admitted;
/** At a call's start: it failed authentication, or here is how to judge its request, or each message of its stream. */
type Admit = (call: CallIdentity) => { failure: grpc.ServiceError | undefined } | { refuse: Refuse; refuseMessage: Refuse; track?: Track };
type AnyHandler = grpc.UntypedHandleCall;

function refusalOf(admit: Admit, call: CallIdentity & { request: unknown }): grpc.ServiceError | undefined {
  const admitted = admit(call);
  return "failure" in admitted ? admitted.failure : admitted.refuse(call.request);
}

function guardSingle(handler: AnyHandler, responseStream: boolean, admit: Admit): AnyHandler {
  if (!responseStream) {
    const unary = handler as grpc.handleUnaryCall<unknown, unknown>;
    const guarded: grpc.handleUnaryCall<unknown, unknown> = (call, callback) => {
      const err = refusalOf(admit, call);
      if (err) callback(err);
      else unary(call, callback);
    };
    return guarded;
  }
  const streaming = handler as grpc.handleServerStreamingCall<unknown, unknown>;
  const guarded: grpc.handleServerStreamingCall<unknown, unknown> = (call) => {
    const admitted = admit(call);
    const err = "failure" in admitted ? admitted.failure : admitted.refuse(call.request);
    if (err) {
      call.emit("error", err);
      return;
    }
    if (!("failure" in admitted)) admitted.track?.(call)(call.request);
    streaming(call);
  };
  return guarded;
}

/**
 * At a request stream's first malformed (or, with security on, unauthorized) message the handler sees the
 * stream end (so requests already taken are still answered), and the status it ends with is the refusal.
 * A stream that fails authentication ends with that status before the handler sees it at all.
 */
function guardStream(handler: AnyHandler, admit: Admit): AnyHandler {
  const guarded = (call: grpc.ServerDuplexStream<unknown, unknown>): void => {
    const admitted = admit(call);
    if ("failure" in admitted) {
      call.emit("error", admitted.failure);
      return;
    }
    const refuseMessage = admitted.refuseMessage;
    let track: Admitted | undefined;
    const emit = call.emit.bind(call);
    const end = call.end.bind(call);
    let failure: grpc.ServiceError | undefined;
    let failing = false;
    call.emit = (event: string | symbol, ...args: unknown[]): boolean => {
      const refusal = event === "data" && !failure ? refuseMessage(args[0]) : undefined;
      if (refusal) {
        failure = refusal;
        call.pause();
        return emit("end");
      }
      // Nothing after the malformed message reaches the handler, nor the client's own half-close.
      if (failure && (event === "data" || event === "end")) return true;
      if (event === "data") track?.(args[0]);
      return emit(event, ...args);
    };
    call.end = ((...args: Parameters<typeof call.end>) => {
      if (failure && !failing) {
        failing = true;
        emit("error", failure);
        return call;
      }
      return end(...args);
    }) as typeof call.end;
    track = admitted.track?.(call);
    (handler as (call: grpc.ServerDuplexStream<unknown, unknown>) => void)(call);
  };
  return guarded as AnyHandler;
}
