/**
 * Ambient types for the panel: Svelte's runes and `*.svelte` modules, and stylesheets imported for their side effect
 * (Vite bundles them), for `tsc`.
 */
/// <reference types="svelte" />
declare module '*.css';
