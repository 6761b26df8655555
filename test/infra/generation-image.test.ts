// The generation image (infra/docker/generation.Dockerfile), checked without a Docker engine (these machines have
// none): its COPY lines are replayed into an empty folder standing for /app, its entrypoint runs there and must serve
// a completion, and everything the server imports must come from a production dependency (the image installs with
// npm ci --omit=dev). What stays unchecked here: the CUDA base image, the apt and npm steps, the GPU.
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, storiesDir } from '../paths.js';

const DOCKERFILE = join(repoRoot, 'infra/docker/generation.Dockerfile');

interface Dockerfile {
  workdir: string;
  copies: { sources: string[]; dest: string }[];
  env: Record<string, string>;
  entrypoint: string[];
}

function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const file: Dockerfile = { workdir: '/', copies: [], env: {}, entrypoint: [] };
  for (const line of lines) {
    const [instruction, ...rest] = line.split(/\s+/);
    if (instruction === 'WORKDIR') file.workdir = rest[0]!;
    if (instruction === 'COPY') file.copies.push({ sources: rest.slice(0, -1), dest: rest.at(-1)! });
    if (instruction === 'ENV') for (const pair of rest) if (pair.includes('=')) file.env[pair.split('=')[0]!] = pair.slice(pair.indexOf('=') + 1);
    if (instruction === 'ENTRYPOINT') file.entrypoint = JSON.parse(rest.join(' ')) as string[];
  }
  return file;
}

/** Every module a TypeScript entry reaches through relative imports, and the packages it imports. */
async function importGraph(entry: string): Promise<{ files: Set<string>; packages: Set<string> }> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = async (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = await readFile(file, 'utf8');
    for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'|import\('([^']+)'\)/g)) {
      const spec = m[2] ?? m[3];
      if (!spec || m[1]) continue; // type-only imports leave nothing at run time
      if (spec.startsWith('.')) await visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  await visit(entry);
  return { files, packages };
}

let server: ChildProcess | undefined;
const dirs: string[] = [];
afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((done) => server!.once('exit', done));
    server.kill('SIGTERM');
    // The entrypoint's process must be the server itself: a SIGTERM that does not end it would leave it running.
    await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000))]);
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  }
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('the generation image', () => {
  it('needs only production dependencies, and files its COPY lines bring in', async () => {
    const docker = parseDockerfile(await readFile(DOCKERFILE, 'utf8'));
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const { files, packages } = await importGraph(join(repoRoot, 'functions/node/generation-server.ts'));
    expect([...packages].filter((p) => !(p in pkg.dependencies))).toEqual([]);
    const copied = docker.copies.flatMap((c) => c.sources.map((s) => resolve(repoRoot, s)));
    const outside = [...files].filter((f) => !copied.some((c) => f === c || f.startsWith(`${c}/`)));
    expect(outside).toEqual([]);
    const ignored = (await readFile(join(repoRoot, '.dockerignore'), 'utf8')).split('\n').filter(Boolean);
    expect(copied.filter((c) => ignored.some((i) => c === resolve(repoRoot, i) || c.startsWith(`${resolve(repoRoot, i)}/`)))).toEqual([]);
  });

  it('serves a completion from a folder holding only what the Dockerfile copies, through its entrypoint', async () => {
    const docker = parseDockerfile(await readFile(DOCKERFILE, 'utf8'));
    const root = await mkdtemp(join(tmpdir(), 'edge-maas-image-'));
    dirs.push(root);
    const inImage = (path: string) => join(root, path.startsWith('/') ? path : join(docker.workdir, path));
    for (const { sources, dest } of docker.copies) {
      for (const source of sources) {
        const target = dest.endsWith('/') ? join(inImage(dest), source.split('/').at(-1)!) : inImage(dest);
        await mkdir(dirname(target), { recursive: true });
        await cp(join(repoRoot, source), target, { recursive: true });
      }
    }
    // The npm ci step: this checkout's node_modules stands in for the image's.
    await symlink(join(repoRoot, 'node_modules'), inImage('node_modules'));
    const env = { ...process.env, ...docker.env, PORT: '0', HOST: '127.0.0.1', GEN_EXECUTION_PROVIDER: 'cpu', GEN_MODEL_DIR: storiesDir, MODEL_S3_URI: '' };
    server = spawn(inImage(docker.entrypoint[0]!), docker.entrypoint.slice(1), { cwd: inImage('.'), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const url = await new Promise<string>((found, failed) => {
      const timer = setTimeout(() => failed(new Error(`no address within 60 s: ${output}`)), 60_000);
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          found(match[1]!);
        }
      };
      server!.stdout!.on('data', read);
      server!.stderr!.on('data', read);
      server!.on('exit', (code) => failed(new Error(`exited with ${code}: ${output}`)));
    });
    expect((await fetch(`${url}/health`)).status).toBe(200);
    const { data } = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: data[0]!.id, prompt: 'Once upon a time', max_tokens: 8, temperature: 0 }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { choices: { text: string }[] }).choices[0]!.text.length).toBeGreaterThan(0);
    // The stop signal reaches the server itself, which drains and exits 0 (a wrapper that kept it would leave it running).
    const exited = new Promise<number | null>((done) => server!.once('exit', (code) => done(code)));
    server!.kill('SIGTERM');
    expect(await Promise.race([exited, new Promise((done) => setTimeout(() => done('still running after 10 s'), 10_000))])).toBe(0);
    expect(await fetch(`${url}/health`).then(() => 'answered', () => 'closed')).toBe('closed');
  }, 90_000);
});
