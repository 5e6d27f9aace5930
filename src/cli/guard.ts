/**
 * `rempart guard config`: the guard's effective thresholds (built in, with REMPART_GUARD_CONFIG
 * applied), for a role and an organisation if given, as JSON or as the Markdown table of
 * docs/GUARD.md. `rempart guard canaries`: how many canary persons the registry holds, and plants
 * more with --plant (operator only: the system actor).
 */
import type { Config } from '../config.ts';
import { systemCtx } from '../context.ts';
import { openDb } from '../db/open.ts';
import { countCanaries, plantCanaries } from '../guard/canaries.ts';
import {
  DEMO_REASONS,
  type GuardThresholds,
  PARAMETER_DOCS,
  type RESPONSES,
  SIGNAL_DOCS,
  SIGNALS,
  type SignalName,
  thresholdsFor,
} from '../guard/thresholds.ts';

/** The effective thresholds for a role and organisation code (both optional: the defaults), of a demo account or not. */
export function effectiveThresholds(
  config: Config,
  role?: string,
  organisation?: string,
  demo = false,
): GuardThresholds {
  return thresholdsFor(config.guard, role ?? '', organisation ?? '', demo);
}

/** The thresholds as a Markdown table: signal, what it measures, levels, reason; then the parameters. */
export function thresholdsMarkdown(t: GuardThresholds): string {
  const lines = [
    '| signal | measures | throttle | step-up | suspend | why |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const name of SIGNALS) {
    const levels = t.levels[name] ?? {};
    const cell = (r: (typeof RESPONSES)[number]): string =>
      levels[r] === undefined ? '—' : String(levels[r]);
    lines.push(
      `| \`${name}\` | ${SIGNAL_DOCS[name].measures} | ${cell('throttle')} | ${cell('step_up')} | ${cell('suspend')} | ${SIGNAL_DOCS[name].reason} |`,
    );
  }
  lines.push('', '| parameter | default | why |', '| --- | --- | --- |');
  for (const [name, value] of Object.entries(t.parameters)) {
    lines.push(`| \`${name}\` | ${value} | ${PARAMETER_DOCS[name as keyof typeof PARAMETER_DOCS]} |`);
  }
  return lines.join('\n');
}

/**
 * The demo layer as a Markdown table (docs/GUARD.md): each level it relaxes, the level every
 * other account of that role has, and why the demo relaxes it.
 */
export function demoMarkdown(config: Config['guard'], role = ''): string {
  const real = thresholdsFor(config, role, '', false);
  const demo = thresholdsFor(config, role, '', true);
  const lines = [
    '| signal | real throttle / step-up / suspend | demo throttle / step-up / suspend | why |',
    '| --- | --- | --- | --- |',
  ];
  const cells = (levels: GuardThresholds['levels'][SignalName]): string =>
    (['throttle', 'step_up', 'suspend'] as const).map((r) => String(levels[r] ?? '—')).join(' / ');
  for (const name of SIGNALS) {
    if (!(name in config.demo.levels!)) continue;
    const why = DEMO_REASONS[name as keyof typeof DEMO_REASONS] ?? '';
    lines.push(`| \`${name}\` | ${cells(real.levels[name])} | ${cells(demo.levels[name])} | ${why} |`);
  }
  return lines.join('\n');
}

/** Counts the canaries, planting `plant` more first. */
export async function runCanaries(
  config: Config,
  options: { plant?: number; seed: number },
): Promise<{ planted: number; canaries: number }> {
  const db = await openDb(config);
  try {
    return await db.tx(systemCtx('guard-canaries').actor, async (tx) => {
      const planted = options.plant ? await plantCanaries(tx, options.plant, options.seed, new Date()) : 0;
      return { planted, canaries: await countCanaries(tx) };
    });
  } finally {
    await db.close();
  }
}
