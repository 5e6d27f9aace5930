/**
 * The text of a PDF as pdfkit writes it, read back from the real bytes the server sent: each
 * FlateDecode content stream inflated (node:zlib), then the hex strings of its TJ/Tj text operators
 * decoded as WinAnsiEncoding (pdfkit's encoding for the standard 14 fonts). No PDF library: the
 * test depends on nothing but the format, and reads what a viewer would show. One text object per
 * printed line, joined by spaces (pdfkit wraps at spaces), whitespace collapsed.
 */
import { inflateSync } from 'node:zlib';

/** WinAnsiEncoding's bytes 0x80–0x9F that differ from Latin-1 (the rest is Latin-1). */
const WIN_ANSI: Record<number, string> = {
  128: '€',
  130: '‚',
  131: 'ƒ',
  132: '„',
  133: '…',
  134: '†',
  135: '‡',
  136: 'ˆ',
  137: '‰',
  138: 'Š',
  139: '‹',
  140: 'Œ',
  142: 'Ž',
  145: '‘',
  146: '’',
  147: '“',
  148: '”',
  149: '•',
  150: '–',
  151: '—',
  152: '˜',
  153: '™',
  154: 'š',
  155: '›',
  156: 'œ',
  158: 'ž',
  159: 'Ÿ',
};

function decodeHex(hex: string): string {
  let out = '';
  for (let i = 0; i + 1 < hex.length; i += 2) {
    const byte = Number.parseInt(hex.slice(i, i + 2), 16);
    out += WIN_ANSI[byte] ?? String.fromCharCode(byte);
  }
  return out;
}

/** The text shown by a pdfkit PDF, lines joined by single spaces. */
export function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  const lines: string[] = [];
  const start = /stream\r?\n/g;
  for (let m = start.exec(raw); m; m = start.exec(raw)) {
    const from = m.index + m[0].length;
    const to = raw.indexOf('endstream', from);
    let content: string;
    try {
      content = inflateSync(pdf.subarray(from, to)).toString('latin1');
    } catch {
      continue; // not a deflated stream (a font's metrics, an image)
    }
    for (const block of content.match(/BT[\s\S]*?ET/g) ?? []) {
      const hexes = block.match(/<([0-9a-fA-F]*)>/g) ?? [];
      lines.push(hexes.map((h) => decodeHex(h.slice(1, -1))).join(''));
    }
  }
  return lines.join(' ').replace(/\s+/g, ' ');
}
