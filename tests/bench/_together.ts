/**
 * One Bun process hosting the shop's four actor services — order (with its sagas), inventory, payment, shipping —
 * each its own runtime node and HTTP app on its own port, as their `main.ts` start them: what `bun run bench saga
 * --together` runs in place of four processes, to measure what fewer processes save. Not a supported way to run
 * the shop (the supervisor, the panel's process table and its crash button still know one process per service).
 */
await import('../../services/order/main.ts');
await import('../../services/inventory/main.ts');
await import('../../services/payment/main.ts');
await import('../../services/shipping/main.ts');
export {};
