/**
 * Reads a V8 CPU profile (`node --cpu-prof`) and says where the time went: self time per package
 * (node_modules/<name>), per project file (src/…) or per V8 bucket ((garbage collector), (idle),
 * (program)). Coarse on purpose: the question is "the Temporal SDK, Hono, zod, our code, or GC?".
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Where a frame's code lives, as a short label. */
function bucketOf(frame: ProfileNode['callFrame']): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native / V8 builtins)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
  }
  const src = url.indexOf('/src/');
  if (src >= 0) return url.slice(src + 1).replace(/^file:\/\//, '');
  if (url.startsWith('node:')) return 'node: (core modules)';
  return url.replace(/^file:\/\//, '');
}

/** Self time per bucket, in ms and in % of the profile, largest first. */
export function summarizeProfile(
  file: string,
  top = 12,
): { totalMs: number; buckets: { bucket: string; ms: number; pct: number }[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Each sample's time is the delta to the next one; attribute it to the sampled node's bucket.
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i] as number);
    if (!node) continue;
    const bucket = bucketOf(node.callFrame);
    selfUs.set(bucket, (selfUs.get(bucket) ?? 0) + (deltas[i + 1] ?? 0));
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0) || 1;
  const buckets = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([bucket, us]) => ({ bucket, ms: Math.round(us / 1000), pct: Math.round((us / totalUs) * 1000) / 10 }));
  return { totalMs: Math.round(totalUs / 1000), buckets };
}

/** One thread's profile: the file, the CPU it used (non-idle sampled time) and where that went. */
export interface ThreadProfile {
  file: string;
  busyMs: number;
  buckets: { bucket: string; ms: number; pct: number }[];
}

/**
 * Every thread profile in `dir` (V8 names them CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile),
 * busiest first, each with its buckets as a share of its busy (non-idle) time.
 */
export function summarizeProfiles(dir: string, top = 10): ThreadProfile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  return files
    .map((file) => {
      const all = summarizeProfile(path.join(dir, file), 1000);
      const busy = all.buckets.filter((b) => b.bucket !== '(idle)');
      const busyMs = busy.reduce((a, b) => a + b.ms, 0) || 1;
      return {
        file,
        busyMs,
        buckets: busy.slice(0, top).map((b) => ({ ...b, pct: Math.round((b.ms / busyMs) * 1000) / 10 })),
      };
    })
    .sort((a, b) => b.busyMs - a.busyMs);
}
