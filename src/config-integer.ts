/**
 * An integer environment variable of the configuration's parts (config-portal.ts, config-notify.ts):
 * its default when unset, else a whole number within bounds, or an issue naming the variable.
 */
import type { FieldIssue } from './errors.ts';

/** Reads `env[name]` as an integer from `min` to `max`; `fallback` when unset or (with an issue) bad. */
export function integerVar(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
  issues: FieldIssue[],
): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    issues.push({ field: name, message: `must be an integer from ${min} to ${max}` });
    return fallback;
  }
  return value;
}
