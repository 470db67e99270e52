import { type ProductionTemporal } from '../../bench/lib/production-temporal';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __switchboardProduction?: ProductionTemporal }).__switchboardProduction?.stop();
}
