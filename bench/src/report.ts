// Benchmark reports: printed, and written to docs/benchmarks/ with the command, machine and date.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
export { median } from '@litepred/profiler';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function machineLine(): string {
  const cpu = cpus();
  return (
    `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} ` +
    `GiB, ${platform()} ${release()}, Node ${process.version}`
  );
}

export class Report {
  private readonly parts: string[] = [];
  constructor(
    private readonly name: string,
    title: string,
    command: string,
  ) {
    this.parts.push(
      `# ${title}`,
      '',
      `- Command: \`${command}\``,
      `- Machine: ${machineLine()}`,
      `- Date: ${new Date().toISOString()}`,
      '',
    );
  }

  /** A paragraph or heading, printed as it is written. */
  text(s: string): void {
    this.parts.push(s, '');
    console.log(`${s}\n`);
  }

  table(headers: string[], rows: (string | number)[][]): void {
    const fmt = (c: string | number) => (typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toPrecision(4)) : c);
    const md = [
      `| ${headers.join(' | ')} |`,
      `|${headers.map(() => '---').join('|')}|`,
      ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`),
    ];
    this.parts.push(...md, '');
    console.log(md.join('\n') + '\n');
  }

  write(): string {
    const dir = join(ROOT, 'docs', 'benchmarks');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${this.name}.md`);
    writeFileSync(path, this.parts.join('\n'));
    console.log(`written to ${path}`);
    return path;
  }
}

/** A share as a percentage; '-' where there is none (NaN: nothing to count). */
export const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(100 * x).toFixed(1)}%`);
