// The one interface both runtimes implement: open a model, run it on prepared inputs, close it
// and hand back the per-node profile where the runtime has one.
import type { BuiltModel } from '@litepred/kernels';
import type { RuntimeInfo } from '../types.js';
import type { RunProfile } from '../ort-profile.js';

export interface TimedSession {
  /** One inference on the prepared inputs; resolves when outputs are ready. */
  run(): Promise<void>;
  /** Releases the session; returns per-run node timings when profiling was on, else null. */
  close(): Promise<RunProfile[] | null>;
}

export interface Backend {
  readonly info: RuntimeInfo;
  /** Whether this backend can report per-node timings. */
  readonly hasNodeProfile: boolean;
  open(model: BuiltModel, options: { profileNodes: boolean }): Promise<TimedSession>;
}

/** Inputs with a constant, non-denormal value: timing does not depend on the values. */
export function inputData(shape: readonly number[]): Float32Array {
  return new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5);
}

/** Input arrays kept for the next sessions, at most this many bytes in all. */
export const INPUT_POOL_BYTES = 256 * 2 ** 20;

/**
 * The input arrays of a model, taken from arrays kept from earlier sessions where the shapes match:
 * a kernel is opened two to four times (its estimate, its null model, its timed session), and
 * allocating and filling its inputs each time was a visible share of bench:collect's wall time
 * (docs/decisions.md). Inputs are only
 * read, so sessions may share them; within one model every input still has an array of its own
 * (copies side by side on inputs of their own must not read one buffer).
 */
export class InputPool {
  private readonly byShape = new Map<string, Float32Array[]>();
  private bytes = 0;

  constructor(private readonly budgetBytes = INPUT_POOL_BYTES) {}

  feeds(inputs: readonly { name: string; shape: readonly number[] }[]): Map<string, Float32Array> {
    const taken = new Map<string, number>();
    const out = new Map<string, Float32Array>();
    for (const input of inputs) {
      const key = input.shape.join('x');
      const k = taken.get(key) ?? 0;
      taken.set(key, k + 1);
      let arrays = this.byShape.get(key);
      if (arrays) this.byShape.delete(key); // re-inserted below: most recently used last
      arrays ??= [];
      if (!arrays[k]) {
        arrays[k] = inputData(input.shape);
        this.bytes += arrays[k].byteLength;
      }
      this.byShape.set(key, arrays);
      out.set(input.name, arrays[k]);
    }
    // Least recently used shapes go first; the arrays of this model stay.
    for (const [key, arrays] of this.byShape) {
      if (this.bytes <= this.budgetBytes || taken.has(key)) continue;
      this.byShape.delete(key);
      this.bytes -= arrays.reduce((s, a) => s + a.byteLength, 0);
    }
    return out;
  }
}
