/**
 * Ambient types for the panel: Svelte's runes and `*.svelte` modules, for `tsc` (Vite compiles the components).
 */
/// <reference types="svelte" />
