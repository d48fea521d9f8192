// readThrottle on a directory laid out as Linux's sysfs (what a board shows; this VM has neither
// cpufreq nor thermal zones, which is the first case).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readThrottle } from '@litepred/agent';

function sysfs(files: Record<string, string | number>): string {
  const root = mkdtempSync(join(tmpdir(), 'litepred-sysfs-'));
  for (const [path, value] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), `${value}\n`);
  }
  return root;
}

const cpus = (cur: number[], max = 2_400_000) =>
  Object.fromEntries(
    cur.flatMap((c, i) => [
      [`devices/system/cpu/cpu${i}/cpufreq/scaling_cur_freq`, c],
      [`devices/system/cpu/cpu${i}/cpufreq/cpuinfo_max_freq`, max],
    ]),
  );
const zone = (tempC: number, passiveC: number) => ({
  'class/thermal/thermal_zone0/temp': tempC * 1000,
  'class/thermal/thermal_zone0/trip_point_0_type': 'passive',
  'class/thermal/thermal_zone0/trip_point_0_temp': passiveC * 1000,
  'class/thermal/thermal_zone0/trip_point_1_type': 'critical',
  'class/thermal/thermal_zone0/trip_point_1_temp': 95_000,
});

describe('readThrottle', () => {
  it('says nothing where the OS shows neither clocks nor temperatures', () => {
    expect(readThrottle(sysfs({}))).toBeUndefined();
    expect(readThrottle('/nonexistent')).toBeUndefined();
  });

  it('is not flagged at full clock and below the passive trip point', () => {
    expect(readThrottle(sysfs({ ...cpus([2_400_000, 2_350_000]), ...zone(61, 80) }))).toEqual({
      minFreqRatio: 2_350_000 / 2_400_000,
      maxTempC: 61,
      flagged: false,
    });
  });

  it('flags a CPU held below its maximum clock, and a zone at its passive trip point', () => {
    expect(readThrottle(sysfs(cpus([2_400_000, 1_200_000])))).toEqual({ minFreqRatio: 0.5, flagged: true });
    expect(readThrottle(sysfs({ ...cpus([2_400_000]), ...zone(82, 80) }))).toMatchObject({ maxTempC: 82, flagged: true });
  });
});
