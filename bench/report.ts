/** The benchmark report: sections of rows, printed as markdown and written as JSON. */
export interface BenchRow {
  metric: string;
  /** Our path (or the single measured value). */
  app: number;
  /** The reference it is compared with, when there is one. */
  bare?: number;
  ratio?: number;
  target?: string;
  extra?: string;
}

export interface BenchSection {
  title: string;
  note: string;
  rows: BenchRow[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

const format = (value: number | undefined, digits = 2) =>
  value === undefined ? '' : Number.isFinite(value) ? value.toFixed(Math.abs(value) >= 100 ? 1 : digits) : String(value);

export function toMarkdown(header: string, sections: readonly BenchSection[]): string {
  const lines = [header, ''];
  for (const section of sections) {
    lines.push(`### ${section.title}`, '', `_${section.note}_`, '', '| metric | ours | reference | ratio | target | |', '|---|---:|---:|---:|---|---|');
    for (const row of section.rows) {
      lines.push(`| ${row.metric} | ${format(row.app)} | ${format(row.bare)} | ${format(row.ratio, 3)} | ${row.target ?? ''} | ${row.extra ?? ''} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
