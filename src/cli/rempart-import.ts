/**
 * `rempart import` alone (bin/rempart.js starts it for that command): the same definition as in
 * rempart.ts, without loading the server, the drill and the benchmarks, whose modules add about
 * 65 MB to the process (issue 10 §4: the import's peak memory stays under 300 MB; docs/IMPORT.md).
 */
import { addImportCommand } from './import-command.ts';
import { newProgram } from './program.ts';

const program = newProgram();
addImportCommand(program);
await program.parseAsync(process.argv);
