// What a result must be before it is stored: a measurement of the task it answers, with a latency a
// kernel can physically have. An agent with a bug (or a forged frame) otherwise stores a relu as an
// mhsa, or a 1e308 ms latency that poisons every predictor built on it.
import { compactConfig, getKernelSpec, resolveConfig } from '@litepred/kernels';
import type { WireKernelConfig } from '@litepred/protocol';

/** Longer than any task may run (a campaign's maxMs is seconds): a latency over it is not a measurement. */
export const MAX_RESULT_LATENCY_MS = 10 * 60_000;

/** A config in one canonical form: the kernel library's compact form for kernel types, sorted keys for any other task. */
function canonical(config: WireKernelConfig): string {
  let c: Record<string, unknown> = config;
  try {
    getKernelSpec(config.type);
    c = compactConfig(resolveConfig(config));
  } catch {
    /* an architecture task, or a type this coordinator does not know: compared as written */
  }
  return JSON.stringify(Object.fromEntries(Object.entries(c).sort(([a], [b]) => a.localeCompare(b))));
}

/** Why a result cannot be stored for this task, or undefined when it can. */
export function resultProblem(task: WireKernelConfig, measured: { config: WireKernelConfig; latencyMs: number }): string | undefined {
  if (!Number.isFinite(measured.latencyMs) || measured.latencyMs <= 0)
    return `latency ${measured.latencyMs} ms is not a measurement (a kernel takes some time)`;
  if (measured.latencyMs > MAX_RESULT_LATENCY_MS)
    return `latency ${measured.latencyMs} ms is over ${MAX_RESULT_LATENCY_MS} ms, longer than a task may run`;
  if (canonical(task) !== canonical(measured.config))
    return `the result measured ${JSON.stringify(measured.config)}, the task was ${JSON.stringify(task)}`;
  return undefined;
}
