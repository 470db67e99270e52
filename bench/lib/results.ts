/**
 * Where benchmark results go (bench/results/, git-ignored) and the host facts recorded with each
 * run, so a figure can always be traced to the machine and the command that produced it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';

import { projectRoot } from '../../dev/binaries';

/** bench/results/ */
export const RESULTS_DIR = path.join(projectRoot, 'bench', 'results');

/** Facts about the machine the run happened on (load average included: these machines are shared). */
export function hostInfo() {
  return {
    node: process.versions.node,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** `name-<ISO time>.ext` in bench/results/ (created if needed); returns the absolute path. */
export function resultPath(name: string, at: string, ext: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  return path.join(RESULTS_DIR, `${name}-${at.replace(/[:.]/g, '-')}.${ext}`);
}

/** Writes `data` as pretty JSON; returns the path relative to the project root. */
export function writeJsonResult(name: string, at: string, data: unknown): string {
  const file = resultPath(name, at, 'json');
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return path.relative(projectRoot, file);
}

/** Writes any text result (SVG chart, Markdown table); returns the path relative to the project root. */
export function writeTextResult(name: string, at: string, ext: string, text: string): string {
  const file = resultPath(name, at, ext);
  writeFileSync(file, text);
  return path.relative(projectRoot, file);
}
