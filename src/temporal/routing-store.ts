/**
 * The worker's routing files, by version (routingVersionOf). A conversation knows only its
 * version; the `routingForVersion` local activity asks this store for the file. The store keeps
 * every version it has loaded, so a conversation keeps the rules it started with while the file on
 * disk changes; when asked for a version it does not hold, it reads ROUTING_FILE again (an edited
 * file becomes a new version) and answers with the newest file it has if the version is still
 * unknown (a worker that has not got the API's file yet), so a conversation is never left without rules.
 */
import { statSync } from 'node:fs';

import { type RoutingSource, type VersionedRouting } from '../activities';
import { type RoutingConfig } from '../routing';
import { loadRoutingConfig, routingVersionOf } from '../routing/load';

/** Routing files by version, with ROUTING_FILE re-read when an unknown version is asked for. */
export class RoutingStore implements RoutingSource {
  private readonly versions = new Map<string, RoutingConfig>();
  private newest: VersionedRouting | undefined;
  private loadedMtimeMs: number | undefined;

  /** `file`: ROUTING_FILE (re-read on a miss); `initial`: the file as the configuration loaded it. */
  constructor(
    private readonly file: string | undefined,
    initial: RoutingConfig | undefined,
    private readonly onError: (message: string) => void = () => undefined,
  ) {
    if (initial) this.add(initial);
    this.loadedMtimeMs = this.mtimeMs();
  }

  /** The version the worker loaded last (undefined: no routing file). */
  get currentVersion(): string | undefined {
    return this.newest?.version;
  }

  /** The file of `version`, else (after re-reading the file) the newest one; undefined without any routing file. */
  forVersion(version: string): VersionedRouting | undefined {
    const held = this.versions.get(version);
    if (held) return { version, routing: held };
    this.reloadIfChanged();
    const reloaded = this.versions.get(version);
    return reloaded ? { version, routing: reloaded } : this.newest;
  }

  private add(routing: RoutingConfig): void {
    const version = routingVersionOf(routing);
    this.versions.set(version, routing);
    this.newest = { version, routing };
  }

  private mtimeMs(): number | undefined {
    if (!this.file) return undefined;
    try {
      return statSync(this.file).mtimeMs;
    } catch {
      return undefined;
    }
  }

  private reloadIfChanged(): void {
    const mtime = this.mtimeMs();
    if (!this.file || mtime === undefined || mtime === this.loadedMtimeMs) return;
    this.loadedMtimeMs = mtime;
    try {
      this.add(loadRoutingConfig(this.file));
    } catch (err) {
      // A broken edit keeps the versions already held; the operator sees why in the log.
      this.onError(`ROUTING_FILE=${this.file} changed but cannot be used: ${(err as Error).message}`);
    }
  }
}
