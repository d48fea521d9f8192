// The coordinator's JSON API as the dashboard reads it. Reads are open; the admin token (kept in
// this tab's sessionStorage only) unlocks enrolment links and cancelling.
import { ApiClient, type ResponseOf } from '@litepred/protocol';
// The answers' types come from the contract (packages/protocol/src/http.ts), as the CLI's do.
export type Overview = ResponseOf<'overview'>;
export type DeviceRow = Overview['devices'][number];
export type CampaignRow = Overview['campaigns'][number];
export type AdaptationRow = Overview['adaptations'][number];
export type Fingerprint = DeviceRow['fingerprint'];
export type Accuracy = ResponseOf<'accuracy'>;
export type Similarity = ResponseOf<'similarity'>;

const ADMIN_KEY = 'litepred.admin';
export const adminToken = () => sessionStorage.getItem(ADMIN_KEY) ?? undefined;
export const setAdminToken = (token: string | undefined) =>
  token ? sessionStorage.setItem(ADMIN_KEY, token) : sessionStorage.removeItem(ADMIN_KEY);

/** The coordinator that served this page, through the one typed client (with the admin token where this tab has it). */
export const coordinator = () => new ApiClient('', { adminToken: adminToken() });
