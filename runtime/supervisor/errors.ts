/**
 * The errors the supervisor reports to a person: each is one line that says what is wrong and what to do, and the
 * CLI prints it without a stack trace.
 */

/** A problem a person must fix before or while starting (a port in use, a process that never got healthy…). */
export class SupervisorError extends Error {
  override readonly name = 'SupervisorError';
}

/** One or more prerequisites are missing; `problems` holds one line each. */
export class PrerequisiteError extends SupervisorError {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}
