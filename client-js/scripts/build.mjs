// Builds the chat demo's browser bundle: the page's own code (wwwroot/app.js) with this package and
// @microsoft/signalr, into wwwroot/dist/app.js. The server's `dotnet build` runs this through `npm run build`.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const wwwroot = join(packageRoot, '..', 'server', 'SignalRSecure.Server', 'wwwroot');

await build({
  entryPoints: [join(wwwroot, 'app.js')],
  outfile: join(wwwroot, 'dist', 'app.js'),
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
