// The benches' command lines, on node:util's parseArgs (strict): `--help` prints what a bench takes,
// and an unknown flag or a number that is not one stops it before it starts. A bench that ran for
// hours on a mistyped or unknown flag (or on `--help`) was the reason.
import { parseArgs } from 'node:util';

export interface Flag {
  describe: string;
  /** A number default makes the flag numeric (checked); true/false makes it a switch. */
  default: string | number | boolean;
}

type Value<F extends Flag> = F['default'] extends number ? number : F['default'] extends boolean ? boolean : string;
export type Args<F extends Record<string, Flag>> = { [K in keyof F]: Value<F[K]> };

export class BenchArgsError extends Error {}

/** Parses argv against `flags`; throws BenchArgsError on an unknown flag or a bad number. `help` is true on --help. */
export function parseBenchArgs<const F extends Record<string, Flag>>(flags: F, argv: string[]): { help: boolean; values: Args<F> } {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, flag] of Object.entries(flags)) options[name] = { type: typeof flag.default === 'boolean' ? 'boolean' : 'string' };
  let parsed: Record<string, string | boolean | undefined>;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<
      string,
      string | boolean | undefined
    >;
  } catch (err) {
    throw new BenchArgsError((err as Error).message);
  }
  const values: Record<string, string | number | boolean> = {};
  for (const [name, flag] of Object.entries(flags)) {
    const given = parsed[name];
    if (given === undefined) values[name] = flag.default;
    else if (typeof flag.default === 'number') {
      const n = Number(given);
      if (given === '' || !Number.isFinite(n)) throw new BenchArgsError(`--${name} takes a number, not '${String(given)}'`);
      values[name] = n;
    } else values[name] = given;
  }
  return { help: parsed.help === true, values: values as Args<F> };
}

export function usage(command: string, summary: string, flags: Record<string, Flag>): string {
  const lines = Object.entries(flags).map(([name, f]) => {
    const shown = typeof f.default === 'boolean' ? `--${name}` : `--${name} <${typeof f.default === 'number' ? 'n' : 'value'}>`;
    const dflt = typeof f.default === 'boolean' || f.default === '' ? '' : ` (default: ${String(f.default)})`;
    return `  ${shown.padEnd(28)} ${f.describe}${dflt}`;
  });
  return `${command}\n\n${summary}\n\nOptions:\n${lines.join('\n')}\n  ${'--help'.padEnd(28)} this text\n`;
}

/** For a bench's entry point: prints the usage and exits on --help (0) or on a bad command line (2). */
export function benchArgs<const F extends Record<string, Flag>>(
  command: string,
  summary: string,
  flags: F,
  argv = process.argv.slice(2),
): Args<F> {
  try {
    const { help, values } = parseBenchArgs(flags, argv);
    if (help) {
      process.stdout.write(usage(command, summary, flags));
      process.exit(0);
    }
    return values;
  } catch (err) {
    if (!(err instanceof BenchArgsError)) throw err;
    process.stderr.write(`${command}: ${err.message}\n\n${usage(command, summary, flags)}`);
    process.exit(2);
  }
}
