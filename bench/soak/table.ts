/** The soak's section of bench/RESULTS.md: statuses per request kind, RSS over time, usage rows against requests. */
export interface SoakResult {
  minutes: number;
  rps: number;
  cores: number;
  node: string;
  started: string;
  byKind: Map<string, { statuses: Record<string, number>; ms: number[] }>;
  statuses: Record<string, number>;
  /** 5xx answers and requests that got no answer, broken streams included (the first 10). */
  fiveXx: string[];
  meteredSent: number;
  meteredAnswered: number;
  uploadHangUps: number;
  skipped: number;
  rss: { at: number; mb: number }[];
  rows: Record<string, number>;
  exit: string;
  errorLines: string[];
}

const statusList = (statuses: Record<string, number>) => Object.entries(statuses).sort().map(([s, n]) => `${s}: ${n}`).join(', ');
const mb = (value: number) => `${value.toFixed(0)} MB`;

export function soakTable(r: SoakResult, kinds: string[], percentile: (values: number[], p: number) => number): string {
  const sent = Object.values(r.statuses).reduce((a, b) => a + b, 0);
  const bad = Object.entries(r.statuses).filter(([s]) => s === 'failed' || Number(s) >= 500).reduce((a, [, n]) => a + n, 0);
  const rows = Object.values(r.rows).reduce((a, b) => a + b, 0);
  const rowsAnswered = rows - (r.rows['499'] ?? 0);
  const first = r.rss[0]!;
  const peak = Math.max(...r.rss.map((s) => s.mb));
  const perMinute = Array.from({ length: Math.ceil(r.minutes) }, (_, m) => {
    const inMinute = r.rss.filter((s) => s.at - first.at >= m * 60_000 && s.at - first.at < (m + 1) * 60_000).map((s) => s.mb);
    return inMinute.length ? `| ${m + 1} | ${mb(Math.min(...inMinute))} | ${mb(Math.max(...inMinute))} |` : `| ${m + 1} | n/a | n/a |`;
  });
  const lines = [
    `Run ${r.started.slice(0, 16)}Z on ${r.cores} cores, Node ${r.node}; ${r.minutes} minutes at ${r.rps} requests/s against \`npm start\`'s server as a child process`
      + ` (keys mode, SQLite usage file, classification on onnxruntime-web WASM, stories260K on the embedded generation server); ${sent} requests`
      + `${r.skipped ? `, ${r.skipped} not sent because 64 were in flight` : ''}.`,
    ...(r.minutes < 10 ? ['', `A ${r.minutes}-minute run (\`SOAK_MINUTES=${r.minutes}\`): the 10-minute run is still to be done.`] : []),
    '',
    '| Request | sent | statuses | p50 ms | p95 ms |',
    '|---|---:|---|---:|---:|',
    ...kinds.filter((k) => r.byKind.has(k)).map((k) => {
      const s = r.byKind.get(k)!;
      return `| ${k} | ${s.ms.length} | ${statusList(s.statuses)} | ${percentile(s.ms, 50).toFixed(0)} | ${percentile(s.ms, 95).toFixed(0)} |`;
    }),
    '',
    `- All statuses: ${statusList(r.statuses)}. 5xx or no answer: ${bad}${r.fiveXx.length ? ` (${r.fiveXx.map((f) => f.replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 200)).join('; ')})` : ''}.`,
    `- Server RSS: start ${mb(first.mb)}, peak ${mb(peak)}, end ${mb(r.rss.at(-1)!.mb)} (5 s after the traffic stopped); ${r.rss.length} samples, one a second.`,
    `- Usage rows after SIGTERM: ${rows} (${statusList(r.rows)}); metered requests sent: ${r.meteredSent}, of which ${r.meteredAnswered} answered and`
      + ` ${r.uploadHangUps} hung up mid-upload. Rows for answered requests: ${rowsAnswered} ${rowsAnswered === r.meteredAnswered ? '=' : '≠'} ${r.meteredAnswered};`
      + ` 499 rows: ${r.rows['499'] ?? 0} ${(r.rows['499'] ?? 0) === r.uploadHangUps ? '=' : '≠'} ${r.uploadHangUps} hang-ups.`,
    `- Server stop: ${r.exit}; lines on its stderr: ${r.errorLines.length}${r.errorLines.length ? ` (first: ${r.errorLines[0]!.slice(0, 160)})` : ''}.`,
    '',
    '| Minute | RSS min | RSS max |',
    '|---:|---:|---:|',
    ...perMinute,
  ];
  return lines.join('\n');
}
