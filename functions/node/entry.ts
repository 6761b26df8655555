/**
 * What every Node entry (npm start, the generation server) shares: settings read from the environment with a
 * one-line error for a bad value, and a start / SIGTERM / SIGINT lifecycle that exits 0 after a clean shutdown.
 */
export function choiceFromEnv<const T extends string>(name: string, choices: readonly T[], fallback: NoInfer<T>): T {
  const raw = process.env[name] ?? fallback;
  if (!choices.includes(raw as T)) throw new Error(`${name} must be ${choices.map((c) => `"${c}"`).join(' or ')} (default "${fallback}"), not "${raw}"`);
  return raw as T;
}

export function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}, not "${raw}"`);
  return value;
}

export function urlFromEnv(name: string): string | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^https?:\/\/[^/]+/.test(raw)) throw new Error(`${name} must be an http(s) base URL, not "${raw}"`);
  return raw;
}

const fail = (error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
};

/** Starts a server from its settings, announces it, and closes it cleanly on SIGTERM or SIGINT. */
export function runEntry<R extends { close(): Promise<void> }>(start: () => Promise<R>, announce: (running: R) => void): void {
  let starting: Promise<R>;
  try {
    starting = start();
  } catch (error) {
    return fail(error);
  }
  starting.then((running) => {
    announce(running);
    const stop = () => void running.close().then(() => process.exit(0), (error: unknown) => fail(`at shutdown: ${error instanceof Error ? error.message : String(error)}`));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  }, fail);
}
