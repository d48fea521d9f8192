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
