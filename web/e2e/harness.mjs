// Browser tests drive the real binary on a temporary data dir seeded with the demo city, in
// Debian's Chromium through playwright-core. The binary is XN_BIN, or the one `cargo test` built
// (target/debug: CI builds the workspace once, for both) or a release build, the newer of the two.
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, existsSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target')
const built = ['debug', 'release'].map((p) => join(target, p, 'xiaoneng')).filter(existsSync)
built.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
export const BIN = process.env.XN_BIN ?? built[0] ?? join(target, 'debug', 'xiaoneng')
export const PASSWORD = 'Xiaoneng@2026'
export const SHOTS = join(here, 'screenshots')

/**
 * Starts `xiaoneng serve` on a fresh demo city; returns its base URL and a stop function. With
 * XN_E2E_URL set, the tests use that server instead (e.g. `npm run dev` while working on the UI;
 * it must hold a demo city the tests have not changed yet).
 */
export async function startServer() {
  if (process.env.XN_E2E_URL) return { url: process.env.XN_E2E_URL.replace(/\/$/, ''), async stop() {} }
  if (!existsSync(BIN)) throw new Error(`no xiaoneng binary at ${BIN}: build it with cargo build -p xiaoneng`)
  const dir = mkdtempSync(join(tmpdir(), 'xn-e2e-'))
  execFileSync(BIN, ['demo', '--months', '0', '--data-dir', dir], { stdio: 'ignore' })
  const child = spawn(BIN, ['serve', '--bind', '127.0.0.1:0', '--data-dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let errors = ''
  child.stderr.on('data', (d) => (errors += d))
  const url = await new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error('server did not start: ' + out)), 20_000)
    child.stdout.on('data', (d) => {
      out += d
      const m = /http:\/\/(127\.0\.0\.1:\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve('http://' + m[1])
      }
    })
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)))
  })
  if (errors.includes('carries no web application')) {
    child.kill('SIGTERM')
    throw new Error(`${BIN} was built without the web application: run npm run build, then cargo build -p xiaoneng`)
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('exit', r))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

/** A page at desktop (default) or phone width. */
export async function newPage(browser, base, { phone = false } = {}) {
  const context = await browser.newContext({
    baseURL: base,
    viewport: phone ? { width: 375, height: 760 } : { width: 1366, height: 860 },
    locale: 'zh-CN',
  })
  const page = await context.newPage()
  page.setDefaultTimeout(10_000)
  return page
}

export async function login(page, username, password = PASSWORD) {
  await page.goto('/login')
  await page.fill('#login-username', username)
  await page.fill('#login-password', password)
  await page.press('#login-password', 'Enter')
}

export async function shot(page, name) {
  mkdirSync(SHOTS, { recursive: true })
  await page.screenshot({ path: join(SHOTS, name + '.png'), fullPage: true })
}
