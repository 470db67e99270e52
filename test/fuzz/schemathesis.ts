/**
 * The pinned schemathesis that `npm run fuzz:api` runs, installed from PyPI into the
 * project-local, git-ignored .tools/schemathesis folder on first use (python3 -m pip --target).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { projectRoot } from '../../dev/binaries';

/** The schemathesis release the fuzz run is pinned to. */
export const SCHEMATHESIS_VERSION = '4.32.5';

const schemathesisDir = path.join(projectRoot, '.tools', 'schemathesis');
const stamp = path.join(schemathesisDir, '.switchboard-version');

/** The command and environment that run `st` from .tools/schemathesis; installs it first when missing or of another version. */
export function ensureSchemathesis(): { command: string; args: string[]; env: Record<string, string> } {
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== SCHEMATHESIS_VERSION) {
    console.error(
      `[fuzz:api] installing schemathesis==${SCHEMATHESIS_VERSION} into .tools/schemathesis (python3 -m pip)`,
    );
    rmSync(schemathesisDir, { recursive: true, force: true });
    const res = spawnSync(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--quiet',
        '--disable-pip-version-check',
        '--root-user-action=ignore',
        '--target',
        schemathesisDir,
        `schemathesis==${SCHEMATHESIS_VERSION}`,
      ],
      { stdio: 'inherit' },
    );
    if (res.status !== 0)
      throw new Error(
        `could not install schemathesis==${SCHEMATHESIS_VERSION}: it needs python3 with pip and access to PyPI (python3 -m pip install --target .tools/schemathesis schemathesis==${SCHEMATHESIS_VERSION})`,
      );
    writeFileSync(stamp, `${SCHEMATHESIS_VERSION}\n`);
  }
  return {
    command: 'python3',
    args: ['-c', 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "st"; schemathesis()'],
    env: { PYTHONPATH: schemathesisDir },
  };
}
