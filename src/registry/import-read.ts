/**
 * Reading an import file as a stream of records (src/registry/import.ts): UTF-8 checked on the fly,
 * CRLF read as LF, RFC 4180 parsed by csv-parse, each record with the physical line it starts on.
 * Only one chunk of the file is in memory at a time, so a file of a million rows imports in bounded
 * memory (docs/BENCHMARKS.md, "Import"). Errors name the line and never quote the text (section 12
 * of docs/ARCHITECTURE.md: no personal data in errors).
 */
import { createReadStream } from 'node:fs';
import { pipeline, Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { AppError } from '../errors.ts';

/** One record of the file: its cells and the physical line it starts on (header = 1). */
export interface Row {
  line: number;
  cells: string[];
}

/** A file-level refusal: `line N, field: message; nothing was imported`. */
export function rejectFile(line: number, field: string, message: string): AppError {
  return new AppError('import_rejected', `line ${line}, ${field}: ${message}; nothing was imported`, {
    issues: [{ line, field, message }],
  });
}

// A record longer than this is not a row of persons: refused rather than buffered whole.
const MAX_RECORD_BYTES = 1024 * 1024;

/** Decodes UTF-8 strictly (a byte-order mark dropped) and turns CRLF into LF, chunk by chunk. */
function utf8Lines(onBytes: (n: number) => void): Transform {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let newlines = 0;
  let carriageReturn = false;
  const emit = (text: string): string => {
    let out = (carriageReturn ? '\r' : '') + text;
    carriageReturn = out.endsWith('\r');
    if (carriageReturn) out = out.slice(0, -1);
    out = out.replace(/\r\n/g, '\n');
    newlines += out.match(/\n/g)?.length ?? 0;
    return out;
  };
  return new Transform({
    decodeStrings: true,
    transform(chunk: Buffer, _encoding, callback) {
      onBytes(chunk.length);
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        const lossy = new TextDecoder('utf-8').decode(chunk);
        const line = 1 + newlines + (lossy.slice(0, lossy.indexOf('\uFFFD')).match(/\n/g)?.length ?? 0);
        callback(rejectFile(line, 'file', 'is not UTF-8 text (save it as CSV UTF-8)'));
        return;
      }
      callback(null, emit(text));
    },
    flush(callback) {
      try {
        const rest = decoder.decode();
        callback(null, emit(rest) + (carriageReturn ? '\r' : ''));
      } catch {
        callback(rejectFile(1 + newlines, 'file', 'is not UTF-8 text (save it as CSV UTF-8)'));
      }
    },
  });
}

/**
 * The records of a CSV file, in order, each with its physical line; the first is the header.
 * `onBytes` is told how many bytes were read, for a progress bar.
 */
export async function* readRows(
  file: string,
  onBytes: (n: number) => void = () => undefined,
): AsyncGenerator<Row> {
  // With `raw`, csv-parse yields { record, raw }; raw holds the skipped empty lines before the record.
  const parser = parse({
    raw: true,
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_BYTES,
  });
  const records = pipeline(createReadStream(file), utf8Lines(onBytes), parser, () => undefined);
  let newlines = 0;
  try {
    for await (const { record, raw } of records as AsyncIterable<{ record: string[]; raw: string }>) {
      const line = 1 + newlines + (/^\n*/.exec(raw)?.[0].length ?? 0);
      newlines += raw.match(/\n/g)?.length ?? 0;
      yield { line, cells: record };
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('CSV_')) {
      // csv-parse's own message quotes the text around the fault, which may be personal data.
      const line = (error as { lines?: number }).lines ?? 1;
      const message =
        code === 'CSV_MAX_RECORD_SIZE'
          ? 'is longer than 1 MiB'
          : 'is not valid CSV: a quoted cell is not closed or has text after its closing quote';
      throw rejectFile(line, 'row', message);
    }
    throw error;
  } finally {
    records.destroy();
  }
}
