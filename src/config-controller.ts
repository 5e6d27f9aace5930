/**
 * The controller and its DPO (REMPART_CONTROLLER_NAME, REMPART_DPO_NAME, REMPART_DPO_EMAIL): the
 * contact the authority's notification gives (GDPR art. 33(3)(b), docs/INCIDENTS.md). Called by
 * loadConfig with its environment: config.ts stays the only reader of process.env. Unset values stay
 * null: the draft then lists them as missing, and cannot be marked sent until the DPO fills them.
 */
import type { FieldIssue } from './errors.ts';

/** The controller's name and its DPO's contact, as the art. 33 draft names them. */
export interface ControllerConfig {
  controllerName: string | null;
  dpoName: string | null;
  dpoEmail: string | null;
}

/** An email address as the draft accepts it: one @, a dot in the domain, no spaces. */
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Reads the three variables; pushes an issue naming the variable for a bad one. */
export function loadController(env: NodeJS.ProcessEnv, issues: FieldIssue[]): ControllerConfig {
  const text = (name: string): string | null => {
    const value = env[name]?.trim();
    if (!value) return null;
    if (value.length > 200) issues.push({ field: name, message: 'must be at most 200 characters' });
    return value;
  };
  const dpoEmail = text('REMPART_DPO_EMAIL');
  if (dpoEmail !== null && !EMAIL.test(dpoEmail))
    issues.push({ field: 'REMPART_DPO_EMAIL', message: 'is not an email address' });
  return { controllerName: text('REMPART_CONTROLLER_NAME'), dpoName: text('REMPART_DPO_NAME'), dpoEmail };
}
