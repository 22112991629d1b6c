// svelte-check needs TypeScript 5 or 6; the repo's `typescript` is 7 (the Go-native tsc, no JS API). This preload
// makes `require('typescript')` (and its subpaths) resolve to TypeScript 6, installed as the `typescript6` alias.
const Module = require('node:module');
const original = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'typescript' || request.startsWith('typescript/')) request = request.replace(/^typescript/, 'typescript6');
  return original.call(this, request, ...rest);
};
