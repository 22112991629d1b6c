/** Stops the system the global setup started, as Ctrl-C would. */
import { stopSystem, systemInfo } from './system.ts';

export default async function globalTeardown(): Promise<void> {
  await stopSystem(systemInfo());
}
