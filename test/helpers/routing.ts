import path from 'node:path';

import { type RoutingConfig } from '../../src/routing';
import { loadRoutingConfig } from '../../src/routing/load';
import { projectRoot } from '../../src/temporal/binaries';

/** The shipped example routing file (en, fr, es; FAQ: opening hours, delivery, returns). */
export function exampleRouting(): RoutingConfig {
  return loadRoutingConfig(path.join(projectRoot, 'config', 'routing.example.yaml'));
}
