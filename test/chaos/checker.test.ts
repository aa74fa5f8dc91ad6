// The chaos checker against planted bugs: each check stays quiet on a correct run and names the bug on a
// fabricated one — a lost ack, a duplicate from an idempotent producer, a phantom record, an order
// violation, a gap in the offsets, diverging nodes, a subscriber that saw something else.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ackedPresent,
  checkRun,
  denseOffsets,
  identicalLogs,
  noIdempotentDuplicates,
  noPhantoms,
  refusedAbsent,
  producerOrder,
  referenceLogs,
  subscriberPrefixes,
} from "./checker";
import { ackedInOrder, nodeLogs, send, stored, topic, valuesOf } from "./fabricated";
import { SendOp, SubscriberView, parseSendValue, sendValue } from "./model";

const nodes = [1, 2, 3];

function checks(sends: SendOp[], logs = nodeLogs(nodes, [valuesOf(sends)]), subscribers: SubscriberView[] = []): string[] {
  return checkRun({ sends, logs, subscribers }).violations.map((v) => `${v.check}: ${v.message}`);
}

describe("a correct run", () => {
  test("passes every check and counts what happened", () => {
    const sends = [...ackedInOrder(3), send({ seq: 3, failed: true }), send({ seq: 4, failed: true })];
    // The first failed send was appended anyway (an unknown outcome); the second was not.
    const logs = nodeLogs(nodes, [[...valuesOf(sends.slice(0, 4))]]);
    const view: SubscriberView = { subscriber: "s", topic, partition: 0, records: [{ offset: 0, value: sends[0].value }] };
    const outcome = checkRun({ sends, logs, subscribers: [view] });
    assert.deepEqual(outcome.violations, []);
    assert.deepEqual(outcome.stats, { acked: 3, lost: 0, duplicatedIdempotent: 0, duplicatedPlain: 0, phantoms: 0, unackedAppended: 1, records: 4 });
  });
});

describe("lost acknowledgements", () => {
  test("an acked record missing from the log is caught", () => {
    const sends = ackedInOrder(3);
    const logs = nodeLogs(nodes, [[sends[0].value, sends[2].value]]);
    const found = checks(sends, logs);
    assert.ok(found.some((m) => /^lost-ack: chaos:p:1 acked at t\/0 offset 1 is missing there \(not in the log at all\)/.test(m)), found.join("\n"));
    assert.equal(checkRun({ sends, logs, subscribers: [] }).stats.lost, 2, "offset 1 holds seq 2, and offset 2 is gone");
  });

  test("an acked record found only at another offset is caught", () => {
    const sends = ackedInOrder(2);
    const logs = nodeLogs(nodes, [[sends[1].value, sends[0].value]]);
    const found = ackedPresent(sends, referenceLogs(logs)).map((v) => v.message);
    assert.deepEqual(found, [
      "chaos:p:0 acked at t/0 offset 0 is missing there (found only at offset 1)",
      "chaos:p:1 acked at t/0 offset 1 is missing there (found only at offset 0)",
    ]);
  });

  test("an unacknowledged send may be absent", () => {
    const sends = [send({ seq: 0, offset: 0 }), send({ seq: 1, failed: true }), send({ seq: 2 })];
    assert.deepEqual(checks(sends, nodeLogs(nodes, [[sends[0].value]])), []);
  });
});

describe("duplicates", () => {
  test("a record from an idempotent producer stored twice is caught", () => {
    const sends = ackedInOrder(2, { idempotent: true });
    const logs = nodeLogs(nodes, [[sends[0].value, sends[1].value, sends[1].value]]);
    const found = noIdempotentDuplicates(sends, referenceLogs(logs)).map((v) => v.message);
    assert.deepEqual(found, ["chaos:p:1 from idempotent p appears 2 times, at offsets 1, 2"]);
    assert.equal(checkRun({ sends, logs, subscribers: [] }).stats.duplicatedIdempotent, 1);
  });

  test("an unacknowledged idempotent record stored twice is caught too", () => {
    const sends = [send({ seq: 0, idempotent: true, failed: true })];
    const logs = nodeLogs(nodes, [[sends[0].value, sends[0].value]]);
    assert.equal(noIdempotentDuplicates(sends, referenceLogs(logs)).length, 1);
  });

  test("a plain producer's duplicate (a retry after an unknown outcome) is counted, not a violation", () => {
    const first = send({ seq: 0, offset: 1 });
    const logs = nodeLogs(nodes, [[first.value, first.value]]);
    const outcome = checkRun({ sends: [first], logs, subscribers: [] });
    assert.deepEqual(outcome.violations, []);
    assert.equal(outcome.stats.duplicatedPlain, 1);
  });
});

describe("phantoms", () => {
  test("a record nobody sent is caught", () => {
    const sends = ackedInOrder(2);
    const logs = nodeLogs(nodes, [[sends[0].value, sends[1].value, sendValue("p", 7), "garbage"]]);
    const found = noPhantoms(sends, referenceLogs(logs)).map((v) => v.message);
    assert.deepEqual(found, [
      't/0 offset 2 holds "chaos:p:7" (never sent)',
      't/0 offset 3 holds "garbage" (not a value any producer writes)',
    ]);
    assert.equal(checkRun({ sends, logs, subscribers: [] }).stats.phantoms, 2);
  });

  test("values name their producer, a replaced producer's generation included", () => {
    assert.deepEqual(parseSendValue(sendValue("idem-1.3", 42)), { producer: "idem-1.3", seq: 42 });
    assert.equal(parseSendValue("chaos:p:x"), undefined);
    assert.equal(parseSendValue("other:p:1"), undefined);
  });

  test("a record stored in a partition it was not sent to is caught", () => {
    const sends = [send({ seq: 0, partition: 1, offset: 0 })];
    const logs = nodeLogs(nodes, [[sends[0].value], [sends[0].value]]);
    const found = noPhantoms(sends, referenceLogs(logs)).map((v) => v.message);
    assert.deepEqual(found, ['t/0 offset 0 holds "chaos:p:0" (sent to t/1)']);
  });
});

describe("refused sends", () => {
  test("a send answered 'certainly not appended' that is in the log is caught; an unknown one is not", () => {
    const sends = [send({ seq: 0, offset: 0 }), send({ seq: 1, failed: true, certain: true }), send({ seq: 2, failed: true })];
    const logs = nodeLogs(nodes, [[sends[0].value, sends[1].value, sends[2].value]]);
    const found = refusedAbsent(sends, referenceLogs(logs)).map((v) => v.message);
    assert.deepEqual(found, ["chaos:p:1 was refused as certainly not appended (UNAVAILABLE) yet is at t/0 offset 1"]);
    assert.deepEqual(
      checkRun({ sends, logs, subscribers: [] }).violations.map((v) => v.check),
      ["refused-appended"],
    );
    assert.deepEqual(refusedAbsent(sends, referenceLogs(nodeLogs(nodes, [[sends[0].value, sends[2].value]]))), []);
  });
});

describe("order", () => {
  test("a record sent after another was acked, stored before it, is caught", () => {
    const sends = [send({ seq: 0, invokedAtMs: 0, ackedAtMs: 10, offset: 1 }), send({ seq: 1, invokedAtMs: 20, ackedAtMs: 30, offset: 0 })];
    const found = producerOrder(sends, referenceLogs(nodeLogs(nodes, [[sends[1].value, sends[0].value]]))).map((v) => v.message);
    assert.deepEqual(found, ["p → t/0: chaos:p:1 sent after chaos:p:0 was acked at 1, but acked at 0"]);
  });

  test("a pipelined plain producer's overlapping sends may land either way", () => {
    const sends = [send({ seq: 0, invokedAtMs: 0, ackedAtMs: 30, offset: 1 }), send({ seq: 1, invokedAtMs: 5, ackedAtMs: 20, offset: 0 })];
    assert.deepEqual(producerOrder(sends, referenceLogs(nodeLogs(nodes, [[sends[1].value, sends[0].value]]))), []);
  });

  test("an ordered producer's overlapping sends acked out of send order are caught", () => {
    const sends = [
      send({ seq: 0, ordered: true, invokedAtMs: 0, ackedAtMs: 30, offset: 1 }),
      send({ seq: 1, ordered: true, invokedAtMs: 5, ackedAtMs: 20, offset: 0 }),
    ];
    const found = producerOrder(sends, referenceLogs(nodeLogs(nodes, [[sends[1].value, sends[0].value]]))).map((v) => v.message);
    assert.deepEqual(found, ["p → t/0: chaos:p:1 acked at 0, not after chaos:p:0 at 1"]);
  });

  test("an idempotent producer's unacknowledged record stored after a later one is caught", () => {
    const sends = [send({ seq: 0, idempotent: true, failed: true }), send({ seq: 1, idempotent: true, offset: 0 })];
    const found = producerOrder(sends, referenceLogs(nodeLogs(nodes, [[sends[1].value, sends[0].value]]))).map((v) => v.message);
    assert.deepEqual(found, ["p → t/0: seq 0 at offset 1 follows seq 1 at offset 0"]);
  });

  test("order is per partition: interleaving across partitions is fine", () => {
    const sends = [send({ seq: 0, partition: 1, offset: 0, ackedAtMs: 5 }), send({ seq: 1, partition: 0, offset: 0, invokedAtMs: 10 })];
    assert.deepEqual(producerOrder(sends, referenceLogs(nodeLogs(nodes, [[sends[1].value], [sends[0].value]]))), []);
  });
});

describe("dense offsets", () => {
  test("a gap is caught", () => {
    const sends = ackedInOrder(3);
    const logs = nodeLogs(nodes, [valuesOf(sends)]);
    for (const log of logs) log.partitions[0][2] = stored(3, sends[2].value);
    const found = denseOffsets(logs).map((v) => v.message);
    assert.deepEqual(found, [1, 2, 3].map((n) => `node ${n} t/0: offset 3 where 2 was due`));
  });

  test("a repeated offset is caught", () => {
    const logs = nodeLogs([1], [["a", "b"]]);
    logs[0].partitions[0][1] = stored(0, "b");
    assert.deepEqual(denseOffsets(logs).map((v) => v.message), ["node 1 t/0: offset 0 where 1 was due"]);
  });
});

describe("identical logs", () => {
  const values = valuesOf(ackedInOrder(3));

  test("identical copies pass", () => {
    assert.deepEqual(identicalLogs(nodeLogs(nodes, [values, values])), []);
  });

  test("a node holding another value is caught", () => {
    const logs = nodeLogs(nodes, [values]);
    logs[2].partitions[0][1] = stored(1, "chaos:p:9");
    assert.deepEqual(identicalLogs(logs).map((v) => v.message), ['t/0 record #1: nodes 1 and 3 differ (value "chaos:p:1" vs "chaos:p:9")']);
  });

  test("a different timestamp, key or header is caught", () => {
    const tamper = [
      { timestampMs: 5 },
      { key: Buffer.from("other") },
      { key: undefined },
      { headers: [{ key: "seq", value: Buffer.from("x") }] },
      { headers: [] },
    ];
    const why = tamper.map((fields) => {
      const logs = nodeLogs([1, 2], [values]);
      logs[1].partitions[0][0] = stored(0, values[0], fields);
      return identicalLogs(logs)[0]?.message;
    });
    assert.deepEqual(why, [
      "t/0 record #0: nodes 1 and 2 differ (timestamp 1000 vs 5)",
      "t/0 record #0: nodes 1 and 2 differ (key)",
      "t/0 record #0: nodes 1 and 2 differ (key)",
      "t/0 record #0: nodes 1 and 2 differ (header 0)",
      "t/0 record #0: nodes 1 and 2 differ (1 vs 0 headers)",
    ]);
  });

  test("a node that holds fewer records is caught", () => {
    const logs = nodeLogs(nodes, [values]);
    logs[1].partitions[0].pop();
    assert.deepEqual(identicalLogs(logs).map((v) => v.message), ["t/0: node 1 holds 3 records, node 2 holds 2"]);
  });
});

describe("subscriber views", () => {
  const sends = ackedInOrder(3);
  const reference = referenceLogs(nodeLogs(nodes, [valuesOf(sends)]));
  const view = (records: [number, string][]): SubscriberView => ({
    subscriber: "s",
    topic,
    partition: 0,
    records: records.map(([offset, value]) => ({ offset, value })),
  });

  test("a prefix of the final log passes, the empty one too", () => {
    assert.deepEqual(subscriberPrefixes([view([[0, sends[0].value], [1, sends[1].value]]), view([])], reference), []);
  });

  test("a skipped offset is caught", () => {
    const found = subscriberPrefixes([view([[0, sends[0].value], [2, sends[2].value]])], reference).map((v) => v.message);
    assert.deepEqual(found, ["s (t/0): delivery #1 has offset 2 where 1 was due"]);
  });

  test("a record the final log does not hold there is caught", () => {
    const found = subscriberPrefixes([view([[0, sends[1].value]])], reference).map((v) => v.message);
    assert.deepEqual(found, ['s (t/0): offset 0 delivered "chaos:p:1" but the final log holds "chaos:p:0"']);
  });

  test("a record beyond the final log (later lost) is caught", () => {
    const delivered = view([...sends.map((op, i): [number, string] => [i, op.value]), [3, sendValue("p", 3)]]);
    const found = subscriberPrefixes([delivered], reference).map((v) => v.message);
    assert.deepEqual(found, ['s (t/0): offset 3 delivered "chaos:p:3" but the final log holds nothing']);
  });
});

describe("reports stay readable", () => {
  test("a check keeps twenty messages and counts the rest", () => {
    const sends = ackedInOrder(50);
    const found = checks(sends, nodeLogs(nodes, [[]]));
    assert.equal(found.length, 21);
    assert.equal(found[20], "lost-ack: ... and 30 more");
  });
});
