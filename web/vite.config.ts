/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// Element Plus components are imported where they are used (with their CSS), so each route's
// chunk carries only what that page needs.
export default defineConfig({
  plugins: [vue(), Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false })],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: {
    // `xiaoneng serve` on :8080 answers the API; Vite serves the UI with hot reload.
    proxy: { '/api': process.env.XN_API ?? 'http://127.0.0.1:8080', '/healthz': process.env.XN_API ?? 'http://127.0.0.1:8080' },
  },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 900 },
  // Element Plus goes through Vite in tests too, so the CSS its components import is handled.
  test: { environment: 'jsdom', include: ['tests/unit/**/*.test.ts'], server: { deps: { inline: ['element-plus'] } }, testTimeout: 20_000 },
})
