/**
 * One check over every string a request carries, before any route runs (docs/SECURITY.md,
 * "Input"): a control character anywhere in the body, the query string or the path parameters is
 * refused with 400 `validation_failed` naming the field. One hook rather than a pattern on each
 * schema, so that a route added later cannot forget it; it runs before the schema, the handler and
 * any database work, so nothing of such a request is written (not even a login failure record).
 */
import type { FastifyInstance } from 'fastify';
import { findControlCharacter } from '../../control-characters.ts';
import { ValidationError } from '../../errors.ts';

const MESSAGE = 'must not contain control characters (newline, tab, NUL, ESC…)';

/** Installs the control-character check on the root instance (it covers every route). */
export function registerInputCheck(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    for (const [context, value] of [
      ['params', request.params],
      ['querystring', request.query],
      ['body', request.body],
    ] as const) {
      const field = findControlCharacter(value, context);
      if (field !== undefined) throw new ValidationError([{ field, message: MESSAGE }]);
    }
  });
}
