/** Starts the real system once for every e2e test (see system.ts). */
import { mkdirSync } from 'node:fs';
import { ARTIFACTS, startSystem } from './system.ts';

export default async function globalSetup(): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const info = await startSystem();
  console.log(`e2e: Mailroom is up on port offset ${info.offset} (panel ${info.panel}, control ${info.control})`);
}
