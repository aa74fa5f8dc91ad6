// A live progress line (records, rate, bytes) on stderr for long produce and consume runs, only when
// stderr is a terminal: piped or redirected runs stay silent.
import { SingleBar } from "cli-progress";

export interface Progress {
  add(records: number, bytes: number): void;
  stop(): void;
}

const silent: Progress = { add: () => undefined, stop: () => undefined };

function humanBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export function startProgress(verb: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return silent;
  const bar = new SingleBar({
    stream,
    format: `${verb} {value} records | {rate} records/s | {size}`,
    hideCursor: true,
    clearOnComplete: false,
    fps: 5,
  });
  const startMs = Date.now();
  let records = 0;
  let bytes = 0;
  bar.start(0, 0, { rate: "0", size: "0 B" });
  const payload = () => {
    const seconds = Math.max(0.001, (Date.now() - startMs) / 1000);
    return { rate: Math.round(records / seconds).toLocaleString("en-US"), size: humanBytes(bytes) };
  };
  return {
    add(n, b) {
      records += n;
      bytes += b;
      bar.setTotal(records);
      bar.update(records, payload());
    },
    stop() {
      bar.update(records, payload());
      bar.stop();
    },
  };
}
