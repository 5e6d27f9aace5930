/**
 * The art. 33 draft as a PDF (pdfkit), in French, in the order of the CNIL's online notification
 * form, for the DPO to file or attach. Every item of the JSON draft (art33.ts) is printed with its
 * label; counts only, no person's data. Built in memory: a draft is a page or two.
 */
import PDFDocument from 'pdfkit';
import type { Art33Draft } from './art33.ts';
import { PERSON_STATUSES } from './categories.ts';

/** French labels of the breach types, channels and answers, as the CNIL form words them. */
const TYPE_LABEL: Record<string, string> = {
  confidentiality: 'perte de confidentialité',
  integrity: "perte d'intégrité",
  availability: 'perte de disponibilité',
};
const CHANNEL_LABEL: Record<string, string> = {
  email: 'courriel',
  sms: 'SMS',
  letter: 'courrier postal',
  portal: 'portail personnel',
};
const INFORMED_LABEL: Record<string, string> = { yes: 'oui', planned: 'prévu', no: 'non' };
const STATUS_LABEL: Record<string, string> = {
  registered: 'inscrits',
  deregistered: 'désinscrits',
  candidate: 'candidats',
  archived: 'archivés',
};
const CLOCK_LABEL: Record<string, string> = {
  running: 'en cours',
  overdue: 'dépassé',
  notified_in_time: 'notifiée dans le délai',
  notified_late: 'notifiée hors délai',
};

/** An ISO date-time as the PDF prints it: `2026-11-23 08:00 UTC`. */
export function pdfDate(iso: string | null): string {
  return iso === null ? '—' : `${iso.replace('T', ' ').slice(0, 16)} UTC`;
}

/** The labelled lines of the PDF, in order: what is printed, and what the test reads back. */
export function draftLines(d: Art33Draft): [string, string][] {
  const categories = d.personCategories
    ? PERSON_STATUSES.map((s) => `${STATUS_LABEL[s]} : ${d.personCategories![s]}`).join(', ')
    : 'non comptées';
  return [
    ['Responsable du traitement', d.controllerName ?? 'À compléter'],
    ['Délégué à la protection des données', d.dpoName ?? 'À compléter'],
    ['Contact du DPO', d.dpoEmail ?? 'À compléter'],
    ['Nature de la violation', d.nature],
    ['Type de violation', d.natureTypes.map((t) => TYPE_LABEL[t]).join(', ')],
    ['Origine et cause', d.cause],
    ['Début de la violation', pdfDate(d.breachStartedAt)],
    ['Fin de la violation', pdfDate(d.breachEndedAt)],
    ['Prise de connaissance', pdfDate(d.detectedAt)],
    [
      'Échéance des 72 heures',
      `${pdfDate(d.timeline.clock.deadline)} (${CLOCK_LABEL[d.timeline.clock.status]})`,
    ],
    ['Nombre de personnes concernées', String(d.personCount)],
    ['Catégories de personnes', categories],
    ['Mineurs à la date de détection', d.minors === null ? 'non comptés' : String(d.minors)],
    ["Nombre d'enregistrements", String(d.recordCount)],
    [
      'Catégories de données',
      Object.entries(d.dataCategories)
        .map(([field, n]) => `${field} : ${n}`)
        .join(', ') || 'aucune',
    ],
    ['Conséquences probables', d.consequences],
    ['Mesures prises', d.measuresTaken],
    ['Mesures proposées', d.measuresProposed],
    ['Information des personnes', INFORMED_LABEL[d.personsInformed] ?? d.personsInformed],
    ['Moyens d’information', d.informChannels.map((c) => CHANNEL_LABEL[c]).join(', ') || '—'],
    ['Motif de non-information', d.notInformedReason ?? '—'],
    ['Violation transfrontalière', d.crossBorder ? `oui (${d.crossBorderCountries ?? ''})` : 'non'],
    ['Motifs du retard', d.delayReasons ?? '—'],
    ['État', d.status === 'sent' ? `envoyée le ${pdfDate(d.sentAt)}` : 'brouillon'],
  ];
}

/** Renders the draft as a PDF (A4, Helvetica); resolves with its bytes. */
export function draftPdf(d: Art33Draft): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 56,
    lang: 'fr-FR',
    info: {
      Title: 'Notification de violation de données (RGPD art. 33)',
      Author: d.controllerName ?? 'Rempart',
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc
    .font('Helvetica-Bold')
    .fontSize(15)
    .text('Notification d’une violation de données à caractère personnel');
  doc.font('Helvetica').fontSize(10).text(`RGPD article 33 — incident ${d.incidentId}`).moveDown();
  for (const [label, value] of draftLines(d)) {
    doc.font('Helvetica-Bold').fontSize(10).text(label);
    doc.font('Helvetica').fontSize(10).text(value).moveDown(0.5);
  }
  doc.end();
  return done;
}
