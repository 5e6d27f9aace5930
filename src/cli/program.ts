/**
 * The `rempart` program without its commands: name, help, the control-character check of every
 * argument, and the runner that turns errors into exit codes. Shared by the whole command
 * (rempart.ts) and by the import's own entry (rempart-import.ts), which loads nothing else.
 */
import { Command } from 'commander';
import { hasControlCharacter } from '../control-characters.ts';
import { reportError } from './output.ts';

/** Runs an action, reporting errors without stack traces for AppErrors; sets the exit code. */
export async function run(json: boolean, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    process.exitCode = reportError(error, json);
  }
}

/** A new `rempart` program, with no command yet. */
export function newProgram(): Command {
  return (
    new Command()
      .name('rempart')
      .description('Rempart: the registry of job seekers and the purpose-bound search around it')
      .showHelpAfterError()
      .configureOutput({ outputError: (text, write) => write(text) })
      // Every argument and option of every command, checked once before it runs: a control character
      // in a login, a name or a path is refused naming the option (src/control-characters.ts).
      .hook('preAction', (_program, action) => {
        const bad = controlCharacterOption(action);
        if (bad)
          action.error(`rempart: ${bad}: must not contain control characters (newline, tab, NUL, ESC…)`);
      })
  );
}

/** The flag (or argument name) of the first option or argument of `command` holding a control character. */
function controlCharacterOption(command: Command): string | undefined {
  for (const [key, value] of Object.entries(command.opts())) {
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'string' && hasControlCharacter(v)))
      return command.options.find((o) => o.attributeName() === key)?.long ?? key;
  }
  for (const [i, value] of command.processedArgs.entries()) {
    if (typeof value === 'string' && hasControlCharacter(value))
      return command.registeredArguments[i]?.name() ?? 'argument';
  }
  return undefined;
}
