import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { convertCheckpoint } from '@video-llava/converter/node';
import { repositoryRoot, temporaryFolders, tinyFixture } from '@video-llava/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The built bin, run as a user runs it: a process of its own (what ONNX Runtime reads of the process, its command
// line, is what these tests are about).
const run = promisify(execFile);
const cliFolder = join(repositoryRoot, 'apps/cli');
const bin = join(cliFolder, 'dist/bin.js');
const videoFile = join(tinyFixture.video, 'sample_48f_320x240.mp4');
const folders = temporaryFolders('cli-bin-');
let converted: string;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

async function exec(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Exit> {
  try {
    const { stdout, stderr } = await run(file, args, {
      maxBuffer: 64 * 2 ** 20,
      cwd: options.cwd,
      env: options.env ?? process.env,
    });
    return { code: 0, signal: null, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; signal?: NodeJS.Signals; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : null,
      signal: failed.signal ?? null,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr ?? '',
    };
  }
}

beforeAll(async () => {
  await run('pnpm', ['exec', 'tsup'], { cwd: cliFolder });
  converted = join(await folders.folder(), 'tiny-onnx');
  await convertCheckpoint(tinyFixture.model, converted, { dtypes: ['fp32'] });
}, 300_000);
afterAll(() => folders.removeAll());

describe('the video-llava bin and long command lines', () => {
  // onnxruntime-node 1.30's telemetry matches /proc/self/cmdline with a recursive std::regex and overflowed the
  // stack from about 29,000 characters: SIGSEGV (exit 139) before any message. The question reaches the model now
  // (the tiny model's 4096 positions refuse it, with a message counting its tokens), on the command line or from a file.
  const question = 'a'.repeat(100_000);

  it('a 100,000-character --question gets an answer or a message, never a crash', async () => {
    const result = await exec(
      process.execPath,
      [bin, 'generate', converted, '--question', question, '--video', videoFile, '--max-new-tokens', '2', '--quiet'],
      { env: { ...process.env, ORT_DISABLE_TELEMETRY: undefined } },
    );
    expect(result.signal).toBeNull();
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(
      /text is \d{5,} tokens after expanding the images and videos .* more than the model's max_position_embeddings 4096/,
    );
  });

  it('--question-file takes the same 100,000 characters without them on the command line', async () => {
    const file = join(await folders.folder(), 'question.txt');
    await writeFile(file, question);
    const fromFile = await exec(process.execPath, [
      bin,
      'generate',
      converted,
      '--question-file',
      file,
      '--video',
      videoFile,
      '--max-new-tokens',
      '2',
      '--quiet',
    ]);
    expect(fromFile.signal).toBeNull();
    expect(fromFile.stderr).toMatch(/text is \d{5,} tokens after expanding/);
  });

  it('refuses a long command line, with the way round, when the user turned ONNX Runtime telemetry on', async () => {
    const result = await exec(process.execPath, [bin, 'generate', converted, '--question', question], {
      env: { ...process.env, ORT_DISABLE_TELEMETRY: '0' },
    });
    expect(result.signal).toBeNull();
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pass long text with --prompt-file FILE or --question-file FILE');
  });
});

/**
 * The workspace's install of the third-party packages the CLI needs, laid out as npm would: each name once at the top
 * (`node_modules/<name>`, the first version met), and a package that needs another version of it gets that one in its
 * own `node_modules`. Keys are paths relative to the install folder; values, where pnpm put each copy.
 */
async function thirdPartyPackages(): Promise<Map<string, { path: string; version: string; top: boolean }>> {
  const { stdout } = await run(
    'pnpm',
    ['--filter', '@video-llava/cli', 'list', '--prod', '--depth', 'Infinity', '--json'],
    { cwd: repositoryRoot, maxBuffer: 64 * 2 ** 20 },
  );
  interface Listed {
    version: string;
    path: string;
    dependencies?: Record<string, Listed>;
    optionalDependencies?: Record<string, Listed>;
  }
  const [root] = JSON.parse(stdout) as Listed[];
  const found = new Map<string, { path: string; version: string; top: boolean }>();
  const topVersions = new Map<string, string>();
  const walked = new Set<string>();
  const walk = (dependencies: Record<string, Listed> | undefined, parent: string | undefined): void => {
    for (const [name, listed] of Object.entries(dependencies ?? {})) {
      if (listed.version.startsWith('link:')) {
        walk(listed.dependencies, undefined);
        walk(listed.optionalDependencies, undefined);
        continue;
      }
      // optional packages of other platforms are listed but not installed
      if (!existsSync(listed.path)) continue;
      let place: string;
      const top = topVersions.get(name);
      if (top === undefined || top === listed.version) {
        topVersions.set(name, listed.version);
        place = join('node_modules', name);
      } else place = join(parent ?? '.', 'node_modules', name);
      const key = `${place}@${listed.version}`;
      if (walked.has(key)) continue;
      walked.add(key);
      if (!found.has(place))
        found.set(place, {
          path: realpathSync(listed.path),
          version: listed.version,
          top: place === join('node_modules', name),
        });
      walk(listed.dependencies, place);
      walk(listed.optionalDependencies, place);
    }
  };
  walk(root!.dependencies, undefined);
  walk(root!.optionalDependencies, undefined);
  return found;
}

describe('npm pack', () => {
  it('the packed CLI installs with npm into an empty folder beside the other packed packages, offline, and runs', async () => {
    const packs = await folders.folder();
    // every workspace package the CLI needs, packed as it would be published (workspace:* becomes the version)
    const { stdout } = await run(
      'pnpm',
      ['--filter', '@video-llava/cli...', '--prod', 'list', '--depth', '-1', '--json'],
      { cwd: repositoryRoot, maxBuffer: 16 * 2 ** 20 },
    );
    // (the filter takes development dependencies too: the private tooling packages are left out)
    const workspace = (JSON.parse(stdout) as { path: string; private?: boolean }[])
      .filter((item) => !item.private)
      .map((item) => item.path);
    for (const folder of workspace) await run('pnpm', ['pack', '--pack-destination', packs], { cwd: folder });
    const tarballs = readdirSync(packs).filter((name) => name.endsWith('.tgz'));
    expect(tarballs).toContain('video-llava-cli-0.0.0.tgz');
    const cliManifest = JSON.parse(
      (await run('tar', ['-xOzf', join(packs, 'video-llava-cli-0.0.0.tgz'), 'package/package.json'])).stdout,
    );
    expect(cliManifest.bin).toEqual({ 'video-llava': './dist/bin.js' });
    expect(JSON.stringify(cliManifest.dependencies)).not.toContain('workspace:');

    // The third-party packages come from this workspace's install (tests never reach the network): hard links of
    // pnpm's copies, listed in the folder's package.json so that npm keeps them, as an earlier `npm install` would
    // have left them.
    const app = await folders.folder();
    const thirdParty = await thirdPartyPackages();
    const dependencies: Record<string, string> = {};
    for (const [place, { path, version, top }] of thirdParty) {
      const target = join(app, place);
      await mkdir(dirname(target), { recursive: true });
      await run('cp', ['-al', path, target]).catch(() => run('cp', ['-a', path, target]));
      if (!top) continue;
      const name = place.slice('node_modules/'.length);
      const manifest = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as {
        bin?: string | Record<string, string>;
      };
      dependencies[name] = version;
      const bins = typeof manifest.bin === 'string' ? { [name.split('/').pop()!]: manifest.bin } : (manifest.bin ?? {});
      for (const [command, file] of Object.entries(bins)) {
        await mkdir(join(app, 'node_modules/.bin'), { recursive: true });
        await symlink(join('..', name, file), join(app, 'node_modules/.bin', command)).catch(() => undefined);
      }
    }
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({ name: 'cli-install-test', private: true, dependencies }),
    );
    const install = await exec(
      'npm',
      ['install', '--offline', '--no-audit', '--no-fund', ...tarballs.map((name) => join(packs, name))],
      {
        cwd: app,
        env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_offline: 'true' },
      },
    );
    expect(install.code, install.stderr).toBe(0);

    const installed = join(app, 'node_modules/.bin/video-llava');
    const help = await exec(installed, ['--help'], { cwd: app });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: video-llava <command>/);
    for (const command of ['info', 'convert', 'generate', 'chat']) expect(help.stdout).toContain(`  ${command} `);
    // and does the work: convert the fixture checkpoint to q4, then answer from the q4-only folder
    const output = join(app, 'tiny-q4');
    const convert = await exec(installed, ['convert', tinyFixture.model, output, '--dtype', 'q4', '--json'], {
      cwd: app,
    });
    expect(convert.code, convert.stderr).toBe(0);
    const answer = await exec(
      installed,
      [
        'generate',
        output,
        '--question',
        'Why is this funny?',
        '--video',
        videoFile,
        '--max-new-tokens',
        '3',
        '--greedy',
        '--json',
        '--quiet',
      ],
      { cwd: app },
    );
    expect(answer.code, answer.stderr).toBe(0);
    expect(JSON.parse(answer.stdout.trimEnd().split('\n').pop()!).ids).toHaveLength(3);
  }, 600_000);
});
