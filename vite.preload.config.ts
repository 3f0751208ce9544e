import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Sandboxed preloads must be one CommonJS file with no imports but 'electron'.
export default defineConfig({
  build: {
    outDir: fileURLToPath(new URL('./dist/preload', import.meta.url)),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    sourcemap: true,
    lib: {
      entry: fileURLToPath(new URL('./electron/preload/preload.ts', import.meta.url)),
      formats: ['cjs'],
      fileName: () => 'preload.cjs',
    },
    rollupOptions: { external: ['electron'] },
  },
});
