// Builds the chat demo's browser bundle: the page's own code (wwwroot/app.js) with this package and
// @microsoft/signalr, into wwwroot/dist/app.js. The server's `dotnet build` runs this through `npm run build`.
// Code splitting puts what the client imports lazily (the MessagePack protocol) into chunks of its own beside it,
// fetched only by a page that asks for it.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const wwwroot = join(packageRoot, '..', 'server', 'SignalRSecure.Server', 'wwwroot');

// Chunk names carry a hash of their content: a fresh folder leaves no stale chunk of an older build behind.
rmSync(join(wwwroot, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: [join(wwwroot, 'app.js')],
  outdir: join(wwwroot, 'dist'),
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: 'linked',
  // The page imports the package by name, as any other page would; here the name resolves to this source tree.
  alias: { 'signalr-secure-client': join(packageRoot, 'src', 'index.js') },
  logLevel: 'warning',
});
