// Tensor shapes as kernel config fields, and what a matcher returns.
import type { KernelConfig } from '@litepred/kernels';
import type { OnnxNode } from './graph.js';

/** A kernel found at a node, the reason none fits it, or nothing (glue, or not this matcher's op). */
export type Match = { config: KernelConfig; nodes: OnnxNode[] } | { reason: string } | undefined;

export const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A 4-d activation of batch 1: [1, C, H, W]. */
export const isImage = (s: readonly number[]) => s.length === 4 && s[0] === 1;

/** HW, W (only where it differs) and CIN of a [1, C, H, W] activation. */
export function imageFields(s: readonly number[]): { HW: number; W?: number; CIN: number } {
  return { HW: s[2]!, ...(s[3] !== s[2] ? { W: s[3]! } : {}), CIN: s[1]! };
}

/**
 * Any activation as the NCHW fields of an element-wise kernel over the same elements: an image as
 * it is; otherwise the last axis as the channels (tokens [B, L, C], rows [N, C]) and the rest as
 * the height. An element-wise op costs the same over the same elements, and a per-channel
 * operand broadcasts along CIN either way.
 */
export function elementwiseFields(s: readonly number[]): { HW: number; W?: number; CIN: number } {
  if (isImage(s)) return imageFields(s);
  if (s.length === 4) return { HW: s[0]! * s[2]!, ...(s[3] !== s[0]! * s[2]! ? { W: s[3]! } : {}), CIN: s[1]! };
  const c = s.at(-1) ?? 1;
  return { HW: Math.max(1, numel(s) / c), W: 1, CIN: c };
}

/** The channel axis of an activation as elementwiseFields reads it. */
export const channelAxis = (s: readonly number[]) => (s.length === 4 ? 1 : s.length - 1);

/** Tokens [.., L, C] as L (every axis but the last) and CIN (the last). */
export function tokenFields(s: readonly number[]): { L: number; CIN: number } {
  const c = s.at(-1) ?? 1;
  return { L: Math.max(1, numel(s) / c), CIN: c };
}
