/**
 * Reading the notices' letters as the print shop's file holds them (src/notify/letters.ts: PDF by
 * pdfkit, standard fonts): T7 matches each letter to its person by the address block and reads
 * the fields it states. The text is taken from the PDF's content streams (Flate-compressed text
 * showing operators, WinAnsi-encoded hex strings), one line per text fragment in page order. Long
 * lines are wrapped on paper, so a letter's text is not the signed note byte for byte: the drill
 * checks a letter through its code (the public message check), the way its reader would.
 */
import { inflateSync } from 'node:zlib';

/** One letter of a batch. */
export interface LetterRead {
  /** The address block: `Prénoms Nom`, street line, `postcode city`, one per line. */
  block: string;
  /** The notice id printed as the letter's reference. */
  reference: string;
  /** The notice's lines as printed (wrapped lines are separate lines). */
  lines: string[];
}

const WIN_ANSI = new TextDecoder('windows-1252');

/** Every text fragment of a pdfkit PDF, in stream order. */
export function pdfTextLines(pdf: Buffer): string[] {
  const raw = pdf.toString('latin1');
  const lines: string[] = [];
  const streams = /stream\r?\n/g;
  for (let match = streams.exec(raw); match; match = streams.exec(raw)) {
    const start = match.index + match[0].length;
    const end = raw.indexOf('endstream', start);
    if (end < 0) break;
    streams.lastIndex = end + 'endstream'.length;
    let content: string;
    try {
      content = inflateSync(pdf.subarray(start, end)).toString('latin1');
    } catch {
      continue; // not a compressed content stream (an image, a font)
    }
    for (const shown of content.matchAll(/\[((?:\s*(?:<[0-9a-fA-F]*>|-?[\d.]+))*)\s*\]\s*TJ/g)) {
      const hex = [...(shown[1] ?? '').matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => h[1]).join('');
      lines.push(WIN_ANSI.decode(Buffer.from(hex, 'hex')));
    }
  }
  return lines;
}

/** The letters of a batch (each starts with the sender's name line `Rempart`). */
export function lettersInPdf(pdf: Buffer): LetterRead[] {
  const lines = pdfTextLines(pdf);
  const starts = lines.flatMap((line, i) => (line === 'Rempart' ? [i] : []));
  return starts.map((start, n) => {
    const own = lines.slice(start, starts[n + 1] ?? lines.length);
    // Rempart, the sender's subtitle, the three address lines, the date and reference, the notice.
    const reference = /Référence : ([0-9a-f-]{36})/.exec(own[5] ?? '')?.[1] ?? '';
    return {
      block: own.slice(2, 5).join('\n'),
      reference,
      lines: own.slice(6).map((l) => (l.trim() === '' ? '' : l)),
    };
  });
}
