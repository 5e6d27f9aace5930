/**
 * The audit log's proofs (docs/DESIGN.md section 7): the latest signed checkpoint, consistency between
 * two tree sizes, and the inclusion of one event. They hold hashes and tree sizes, no personal data;
 * an event's inclusion proof is given to whoever may read that event (security officers and the DPO:
 * any; org managers: their organisation's; everyone: their own), so a partner organisation can check
 * its agents' activity against a published checkpoint with any RFC 6962 tooling.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { consistencyProofFor, inclusionProofFor, latestCheckpoint } from '../../audit/proofs.ts';
import type { Actor } from '../../context.ts';
import type { Db } from '../../db/types.ts';
import { AppError } from '../../errors.ts';
import { problemResponse } from '../plugins/errors.ts';
import { obj } from '../schemas.ts';

export interface AuditRoutesOptions {
  db: Db;
}

const hex = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;
const size = { type: 'string', pattern: '^(0|[1-9][0-9]{0,15})$', description: 'A tree size' } as const;
const errors = {
  400: problemResponse('Invalid input; `field` names it'),
  401: problemResponse('Not logged in'),
  404: problemResponse('No such event or checkpoint for you'),
};

/** Registers the routes. */
export const auditRoutes: FastifyPluginAsync<AuditRoutesOptions> = async (app, { db }) => {
  const staff = app.requireStaff({ assurance: 'mfa' });
  const actorOf = (request: FastifyRequest): Actor => {
    const account = request.staff!.account;
    return {
      kind: 'staff',
      accountId: account.id,
      organisationId: account.organisationId,
      role: account.role,
    };
  };

  app.get(
    '/api/v1/audit/checkpoint',
    {
      preHandler: staff,
      schema: {
        tags: ['audit'],
        summary: 'The latest signed checkpoint of the audit log (C2SP tlog-checkpoint, Ed25519 signed note)',
        response: {
          200: obj({
            treeSize: { type: 'integer' },
            rootHash: hex,
            signedAt: { type: 'string', format: 'date-time' },
            note: { type: 'string' },
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const checkpoint = await db.tx(actorOf(request), (tx) => latestCheckpoint(tx));
      if (!checkpoint) throw new AppError('not_found', 'no checkpoint has been signed yet');
      return checkpoint;
    },
  );

  app.get<{ Querystring: { from: string; to: string } }>(
    '/api/v1/audit/consistency',
    {
      preHandler: staff,
      schema: {
        tags: ['audit'],
        summary:
          'Proof that the tree of `from` leaves is a prefix of the tree of `to` leaves (RFC 6962 §2.1.2)',
        querystring: obj({ from: size, to: size }),
        response: {
          200: obj({
            from: { type: 'integer' },
            to: { type: 'integer' },
            proof: { type: 'array', items: hex },
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const from = Number(request.query.from);
      const to = Number(request.query.to);
      const proof = await db.tx(actorOf(request), (tx) => consistencyProofFor(tx, from, to));
      return { from, to, proof };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { treeSize?: string } }>(
    '/api/v1/audit/events/:id/inclusion',
    {
      preHandler: staff,
      schema: {
        tags: ['audit'],
        summary:
          'Proof that an audit event is in the log (RFC 6962 §2.1.1), against the latest checkpoint by default',
        params: obj({ id: { type: 'string', pattern: '^[1-9][0-9]{0,18}$' } }),
        querystring: obj({ treeSize: size }, []),
        response: {
          200: obj({
            eventId: { type: 'string' },
            leafIndex: { type: 'integer' },
            treeSize: { type: 'integer' },
            leafHash: hex,
            proof: { type: 'array', items: hex },
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const treeSize = request.query.treeSize === undefined ? undefined : Number(request.query.treeSize);
      return db.tx(actorOf(request), async (tx) => {
        // Row-level security decides whose events this actor may read (migrations 0006 and 0007).
        const visible = await tx.query('SELECT 1 FROM audit_events WHERE id = $1', [id]);
        if (visible.length === 0) throw new AppError('not_found', 'no such audit event for you');
        return inclusionProofFor(tx, id, treeSize);
      });
    },
  );
};
