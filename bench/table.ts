/** The results table: one row per measurement against its baseline, rendered as Markdown. */

export type Verdict = 'PASS' | 'MISS' | 'info' | 'n/a';

export interface Row {
  case: string;
  torchbridge: string;
  baseline: string;
  baselineValue: string;
  ratio: string;
  target: string;
  result: Verdict;
}

export const verdict = (ok: boolean): Verdict => (ok ? 'PASS' : 'MISS');

/** 3 significant digits below 100 (1.23, 45.6), whole numbers above (1234). */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return x.toFixed(0);
  return x.toPrecision(3);
}
export const us = (x: number): string => `${num(x)} µs`;
export const gbps = (x: number): string => `${num(x)} GB/s`;
export const times = (x: number): string => `${num(x)}×`;

const HEADERS = ['Case', 'torchbridge', 'Baseline', 'Baseline value', 'Ratio', 'Target', 'Result'];

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderTable(rows: readonly Row[]): string {
  const lines = [`| ${HEADERS.join(' | ')} |`, `|${HEADERS.map((_, i) => (i === 0 || i === 2 ? ' --- ' : i === HEADERS.length - 1 ? ' :---: ' : ' ---: ')).join('|')}|`];
  for (const r of rows) {
    const cells = [r.case, r.torchbridge, r.baseline, r.baselineValue, r.ratio, r.target, r.result === 'PASS' || r.result === 'MISS' ? `**${r.result}**` : r.result];
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}
