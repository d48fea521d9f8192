// Is this board throttling? Linux says it in sysfs: each CPU's current and maximum clock
// (cpufreq) and each thermal zone's temperature and trip points. Read around every lease
// (AgentHost.throttle); a VM or a machine without them answers undefined.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ThrottleInfo } from '@litepred/profiler';

/** Below this share of its maximum clock right after a lease, a CPU is taken as throttled. */
export const THROTTLED_FREQ_RATIO = 0.85;

const readNumber = (file: string): number | undefined => {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
};

export function readThrottle(root = '/sys'): ThrottleInfo | undefined {
  const cpuDir = join(root, 'devices/system/cpu');
  const ratios: number[] = [];
  if (existsSync(cpuDir)) {
    for (const cpu of readdirSync(cpuDir).filter((d) => /^cpu\d+$/.test(d))) {
      const cur = readNumber(join(cpuDir, cpu, 'cpufreq/scaling_cur_freq'));
      const max = readNumber(join(cpuDir, cpu, 'cpufreq/cpuinfo_max_freq'));
      if (cur !== undefined && max) ratios.push(cur / max);
    }
  }
  const thermalDir = join(root, 'class/thermal');
  let maxTempC: number | undefined;
  let hot = false;
  if (existsSync(thermalDir)) {
    for (const zone of readdirSync(thermalDir).filter((d) => d.startsWith('thermal_zone'))) {
      const temp = readNumber(join(thermalDir, zone, 'temp'));
      if (temp === undefined) continue;
      maxTempC = Math.max(maxTempC ?? -Infinity, temp / 1000);
      for (const f of readdirSync(join(thermalDir, zone)).filter((x) => /^trip_point_\d+_type$/.test(x))) {
        const type = readFileSync(join(thermalDir, zone, f), 'utf8').trim();
        const trip = readNumber(join(thermalDir, zone, f.replace('_type', '_temp')));
        if ((type === 'passive' || type === 'hot' || type === 'critical') && trip !== undefined && temp >= trip) hot = true;
      }
    }
  }
  if (ratios.length === 0 && maxTempC === undefined) return undefined;
  const minFreqRatio = ratios.length ? Math.min(...ratios) : undefined;
  return {
    ...(minFreqRatio !== undefined ? { minFreqRatio } : {}),
    ...(maxTempC !== undefined ? { maxTempC } : {}),
    flagged: hot || (minFreqRatio !== undefined && minFreqRatio < THROTTLED_FREQ_RATIO),
  };
}
