/**
 * The HTTP side of the runtime: the Elysia frame every process serves (health, OpenAPI with an offline Swagger UI,
 * body limits, cross-site refusal, errors as `{ code, message, details? }`), the error type routes throw, the
 * OpenAPI helpers routes describe themselves with, and `listen`. Builds on the core (`runtime/index.ts`); the core
 * never imports it.
 */
export { createServiceApp, ErrorBodySchema } from './service-app.ts';
export type { ServiceAppOptions } from './service-app.ts';
export { HttpError, validationError } from '../http-error.ts';
export type { ErrorBody, ValidationIssue } from '../http-error.ts';
export { unavailableOnTimeout } from './unavailable.ts';
export type { Unavailable } from './unavailable.ts';
export { listen } from './listen.ts';
export { answers, BACKLOG_UNREADABLE_ANSWER, OVERLOADED_ANSWER, pageLimit } from './openapi-document.ts';
export type { BearerSecurity, DocumentTag } from './openapi-document.ts';
// A saga's operator routes (list by status, read, retry, resolve), for any saga a service hosts.
export { sagaRoutes } from './saga-routes.ts';
export type { SagaRoutesWords } from './saga-routes.ts';
export { SAGA_STATUSES, SagaErrorCode, sagaStatusOf } from './saga-schemas.ts';
export type { SagaLogLine, SagaPage, SagaStatus, SagaSummary, SagaView } from './saga-schemas.ts';
// Exposed mode: every request needs a credential (see services/shared/system-access.ts and docs/security.md).
export { bearerMatches, UNAUTHORIZED } from './access-guard.ts';
export type { AccessGuard } from './access-guard.ts';
