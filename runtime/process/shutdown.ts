/**
 * How a Mailroom process ends: on SIGTERM or SIGINT it runs its cleanups (stop the HTTP server, close Redis, …)
 * once, within a deadline, and exits 0. A process started by the supervisor also ends when the supervisor itself is
 * gone, so a supervisor killed with SIGKILL does not leave services running on their ports.
 */

type Cleanup = () => unknown | Promise<unknown>;

const cleanups: Cleanup[] = [];
let installed = false;
let stopping = false;

/** Milliseconds the cleanups get before the process exits anyway (the supervisor SIGKILLs a little later). */
export const SHUTDOWN_DEADLINE_MS = 2000;

/**
 * Runs every registered cleanup (last registered first), then exits with `code`. Safe to call more than once.
 *
 * @example
 * await shutdown('redis lost for good', 1);
 */
export async function shutdown(reason: string, code = 0): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.log(`stopping (${reason})`);
    const all = Promise.allSettled([...cleanups].reverse().map((cleanup) => Promise.resolve().then(cleanup)));
    await Promise.race([all, Bun.sleep(SHUTDOWN_DEADLINE_MS)]);
    process.exit(code);
  }
  return new Promise<never>(() => {});
}

function watchSupervisor(supervisorPid: number): void {
  const timer = setInterval(() => {
    try {
      process.kill(supervisorPid, 0);
    } catch {
      void shutdown(`supervisor ${supervisorPid} is gone`);
    }
  }, 1000);
  timer.unref();
}

/**
 * Registers a cleanup to run when the process is asked to stop (SIGTERM, SIGINT, or its supervisor dying).
 *
 * @example
 * const server = listen(app, portOf('order'));
 * onShutdown(() => server.stop(true));
 */
export function onShutdown(cleanup: Cleanup): void {
  cleanups.push(cleanup);
  if (installed) return;
  installed = true;
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  const supervisorPid = Number(process.env.MAILROOM_SUPERVISOR_PID);
  if (Number.isInteger(supervisorPid) && supervisorPid > 1) watchSupervisor(supervisorPid);
}
