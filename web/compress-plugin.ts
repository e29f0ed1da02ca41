/**
 * Vite build step: writes `.gz` and `.br` siblings of every text asset in the output folder with node:zlib,
 * so the web listener can serve precompressed files (Content-Encoding) without compressing per request.
 * Also records the total gzipped size in `size.json` next to index.html (the ≤ 300 KB budget is checked
 * against it by test/browser and reported by bench:dashboard).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

const TEXT = /\.(js|css|html|svg|json|txt|map)$/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

export function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'vantage-precompress',
    apply: 'build',
    configResolved(c) {
      outDir = c.build.outDir;
    },
    closeBundle() {
      let gz = 0;
      let raw = 0;
      const perFile: Record<string, number> = {};
      for (const f of files(outDir)) {
        if (!TEXT.test(f) || f.endsWith('.map') || f.endsWith('size.json')) continue;
        const body = readFileSync(f);
        const g = gzipSync(body, { level: 9 });
        writeFileSync(`${f}.gz`, g);
        writeFileSync(`${f}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
        gz += g.length;
        raw += body.length;
        perFile[relative(outDir, f)] = g.length;
      }
      writeFileSync(join(outDir, 'size.json'), JSON.stringify({ rawBytes: raw, gzipBytes: gz, files: perFile }, null, 2));
      this.info(`front end: ${(raw / 1024).toFixed(1)} KB raw, ${(gz / 1024).toFixed(1)} KB gzipped`);
    },
  };
}
