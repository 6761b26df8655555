import { readFile } from 'node:fs/promises';

/** Runs a command-line entry: known failures print one line and exit 1, never a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** node:util parseArgs' refusals (an unknown option, a value that starts with a dash) explain themselves over several lines. */
const isParseArgsError = (error: unknown) => String((error as { code?: unknown } | null)?.code ?? '').startsWith('ERR_PARSE_ARGS');

export function runCli(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`error: ${isParseArgsError(error) ? message.split('\n').join(' ') : message.split('\n')[0]}`);
    process.exit(1);
  });
}

export async function readFileOrFail(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `${what} not found: ${path}` : `cannot read ${what} ${path}: ${code ?? error}`);
  }
}
