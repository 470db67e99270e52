import path from 'node:path';

import { projectRoot } from '../../dev/binaries';
import { type RoutingConfig } from '../../src/routing';
import { loadRoutingConfig } from '../../src/routing/load';

/** The shipped example routing file (en, fr, es; FAQ: opening hours, delivery, returns). */
export function exampleRouting(): RoutingConfig {
  return loadRoutingConfig(path.join(projectRoot, 'config', 'routing.example.yaml'));
}
