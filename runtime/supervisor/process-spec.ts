/**
 * What the supervisor needs to know about one process it runs: a name, the command, the port it will listen on and
 * the URL that says it is healthy. The composition root (`services/system.ts`) lists Mailroom's processes in these
 * terms; the supervisor knows nothing else about them.
 */

export type ProcessSpec = {
  /** Short name, used as the log prefix and in the table (`order`, `gateway`, …). */
  name: string;
  /** argv; `command[0]` is looked up on PATH unless it is a path. */
  command: string[];
  /** The TCP port the process listens on (checked to be free before anything starts). */
  port: number;
  /** Polled until it answers 200. */
  healthUrl: string;
  /** Shown in the table (defaults to the health URL's origin). */
  url?: string;
  /** The env var that moves this port (named in the "port in use" message). */
  portEnvVar?: string;
  /** Extra environment for this process only. */
  env?: Record<string, string>;
};

/** What an operator can do to a supervised process (see `Supervisor.control`). */
export const PROCESS_ACTIONS = ['kill', 'restart', 'stop', 'start', 'pause', 'resume'] as const;
export type ProcessAction = (typeof PROCESS_ACTIONS)[number];
