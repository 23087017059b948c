/** Text formatting for the tables. */

export function formatRate(callsPerSec: number): string {
  return Number.isFinite(callsPerSec) ? Math.round(callsPerSec).toLocaleString('en-US') : '-';
}

export function formatLatency(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  if (ms < 10) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export function formatRatio(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? '-' : `${ratio.toFixed(2)}×`;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  const mib = bytes / (1024 * 1024);
  return Math.abs(mib) >= 1 ? `${mib.toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Pads columns; a column whose header starts with a space is right-aligned. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.trim().length, ...rows.map((r) => r[i].length)));
  const right = headers.map((h) => h.startsWith(' '));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.trim())), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
