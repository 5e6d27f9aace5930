/**
 * Letters for persons without an email address (docs/NOTICES.md, "Channels"): one PDF per batch for
 * the print shop, each letter on its own pages, the address block placed for a window envelope
 * (DL, window on the right), then the signed notice as the person will keep it. Each letter prints
 * its notice id as a reference: the print shop's idempotency key, as the Message-ID is the mail
 * server's (a batch written just before a crash is written again by the rerun: see docs/NOTICES.md).
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import type { Address } from '../registry/person.ts';

/** One letter: to whom (decrypted at send time), and the signed notice. */
export interface Letter {
  noticeId: string;
  name: string;
  address: Address;
  signedText: string;
  date: Date;
}

const MM = 72 / 25.4;

/** Writes one letter from the current page on. */
function writeLetter(doc: PDFKit.PDFDocument, letter: Letter): void {
  doc
    .font('Helvetica-Bold')
    .fontSize(11)
    .text('Rempart', 20 * MM, 15 * MM);
  doc.font('Helvetica').fontSize(9).text('Registre des demandeurs d’emploi - Protection des données');
  // The window of a DL envelope: 100 mm from the left, 45 mm from the top (NF EN ISO 269 / La Poste).
  doc
    .font('Helvetica')
    .fontSize(11)
    .text(
      [letter.name, letter.address.line, `${letter.address.postalCode} ${letter.address.city}`].join('\n'),
      100 * MM,
      45 * MM,
      { width: 90 * MM },
    );
  doc
    .fontSize(9)
    .text(`Le ${letter.date.toISOString().slice(0, 10)} - Référence : ${letter.noticeId}`, 20 * MM, 80 * MM);
  doc.moveDown(1.5);
  const left = 20 * MM;
  const width = doc.page.width - 40 * MM;
  for (const line of letter.signedText.split('\n')) {
    // The signature lines of the signed note: monospace, small, so they can be typed back exactly.
    if (line.startsWith('— ')) doc.font('Courier').fontSize(6.5).text(line, left, undefined, { width });
    else
      doc
        .font('Helvetica')
        .fontSize(10)
        .text(line === '' ? ' ' : line, left, undefined, { width });
  }
}

/**
 * Writes `letters` as one PDF in `dir` (created 0700; the file 0600: names and addresses), under a
 * temporary name renamed when complete, so a crash never leaves a half-written batch under a final
 * name. Returns the file's path.
 */
export async function writeLetterBatch(dir: string, fileName: string, letters: Letter[]): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, fileName);
  const temporary = `${file}.partial`;
  const doc = new PDFDocument({
    size: 'A4',
    margin: 20 * MM,
    autoFirstPage: false,
    info: { Title: 'Rempart - avis de violation de données', Author: 'Rempart' },
  });
  const out = createWriteStream(temporary, { mode: 0o600 });
  doc.pipe(out);
  for (const letter of letters) {
    doc.addPage();
    writeLetter(doc, letter);
  }
  doc.end();
  await once(out, 'finish');
  await rename(temporary, file);
  return file;
}
