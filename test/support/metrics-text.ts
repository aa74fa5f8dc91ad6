// Reading Prometheus text exposition in tests: fetch a node's /metrics and look samples up.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

// Values are Go float syntax: NaN in any case (prom-client writes "Nan" for an empty event-loop histogram).
const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|[nN][aA][nN]|[+-]Inf)$/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses every sample line; throws on a line that is neither a comment nor a valid sample. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = sampleLine.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[3] ?? "").matchAll(labelPair)) labels[k] = v;
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

export async function scrape(httpAddress: string): Promise<Sample[]> {
  const res = await fetch(`http://${httpAddress}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  return parseMetrics(await res.text());
}

export function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const s = samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value;
}
