import { copyFileSync, mkdirSync } from 'node:fs'
import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import type { Plugin } from 'vite'
import { defineConfig } from 'vitest/config'

const outDir = fileURLToPath(new URL('../src/taskdash/web/dist', import.meta.url))

// Copies Swagger UI's script and style next to the dashboard, so /api/docs works without internet access
// (src/taskdash/api/webapp.py serves them under /swagger-ui/).
function swaggerUi(): Plugin {
  return {
    name: 'taskdash-swagger-ui',
    apply: 'build',
    closeBundle() {
      const source = fileURLToPath(new URL('./node_modules/swagger-ui-dist/', import.meta.url))
      const target = `${outDir}/swagger-ui`
      mkdirSync(target, { recursive: true })
      for (const name of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
        copyFileSync(`${source}${name}`, `${target}/${name}`)
      }
    },
  }
}

// `npm run dev` proxies the API to a TaskDash server started separately (`taskdash serve`, port 8600 by default).
const apiServer = process.env.TASKDASH_DEV_API ?? 'http://127.0.0.1:8600'

export default defineConfig({
  plugins: [vue(), swaggerUi()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  build: {
    // Package data of the Python package: FastAPI serves it at / (src/taskdash/api/webapp.py).
    outDir,
    emptyOutDir: true,
    // FastAPI serves this folder with a one-year cache, because Vite puts content hashes in the names.
    assetsDir: 'assets',
    // ECharts (core, zrender, and only the bar, line and pie charts) makes one chunk of about 550 kB, 190 kB
    // gzipped. Only the overview and service pages load it, so the warning starts above that size.
    chunkSizeWarningLimit: 600,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': { target: apiServer },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.spec.ts'],
    setupFiles: ['tests/support/setup.ts'],
    clearMocks: true,
    restoreMocks: true,
    unstubGlobals: true,
    server: {
      deps: {
        // Otherwise Node loads async-validator, a CommonJS package that Element Plus's forms import,
        // without Vite's default-export interop, and form validation in tests accepts every value.
        inline: ['element-plus'],
      },
    },
  },
})
