import { type DevServer } from '../../dev/dev-server';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __switchboardDevServer?: DevServer }).__switchboardDevServer?.stop();
}
