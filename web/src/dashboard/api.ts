// The coordinator's JSON API as the dashboard reads it. Reads are open; the admin token (kept in
// this tab's sessionStorage only) unlocks enrolment links and cancelling.
export interface Fingerprint {
  cpuModel: string; cores: number; arch: string; os: string; memoryBytes: number; runtimeVersion: string; executionProvider: string;
  runtime: { backend: string; threads: number; graphOptimizationLevel: string; executionProvider?: string };
  hostname?: string; userAgent?: string; gpuAdapter?: string; crossOriginIsolated?: boolean;
}
export interface DeviceRow {
  id: string; origin: string; online: boolean; revoked: boolean; enrolledAt: number; lastSeenAt: number; fingerprint: Fingerprint;
  working: { campaignId: string; name: string; leased: number }[]; measurements: number; driftFlagged: number; predictorTypes: number;
}
export interface CampaignRow {
  id: string; name: string; purpose: string; state: string; createdAt: number; total: number; done: number; failed: number; leased: number;
  pending: number; cancelled: number; ratePerS: number; etaS: number | null;
}
export interface AdaptationRow {
  id: string; deviceId: string; state: string; online: boolean; options: { budget: number; target: number; models: number };
  progress: { phase?: string; measured?: number; budget?: number; heldOutWithin10?: number; source?: string; why?: string; waiting?: string };
  result: Record<string, unknown> | null; error: string | null; createdAt: number;
}
export interface Overview { generatedAt: number; rateWindowS: number; devices: DeviceRow[]; campaigns: CampaignRow[]; adaptations: AdaptationRow[] }
export interface Accuracy {
  deviceId: string;
  types: { type: string; version: number; kind: string; trainingSamples: number; measured: number; method: string | null; metrics: Record<string, number> | null }[];
  points: { type: string; predictedMs: number; measuredMs: number }[];
}
export interface Similarity { devices: string[]; cells: ({ spearman: number; logLinear: number; kernels: number } | null)[][] }

const ADMIN_KEY = 'litepred.admin';
export const adminToken = () => sessionStorage.getItem(ADMIN_KEY) ?? undefined;
export const setAdminToken = (token: string | undefined) => (token ? sessionStorage.setItem(ADMIN_KEY, token) : sessionStorage.removeItem(ADMIN_KEY));

export async function api<T>(path: string, init: { method?: string; body?: unknown; admin?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (init.admin && adminToken()) headers.authorization = `Bearer ${adminToken()}`;
  const res = await fetch(path, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const body = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new Error((body as { error?: string }).error ?? `${res.status} ${res.statusText}`);
  return body as T;
}
