import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { launch, login, newPage, PASSWORD, shot, startServer } from './harness.mjs'

let server, browser
before(async () => {
  server = await startServer()
  browser = await launch()
})
after(async () => {
  await browser?.close()
  await server?.stop()
})

/** What an authenticator app does with the key it was given: RFC 6238, SHA-1, six digits. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  const out = []
  let value = 0
  let bits = 0
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    value = ((value << 5) | alphabet.indexOf(c)) & 0xffff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out.push((value >> bits) & 0xff)
    }
  }
  return Buffer.from(out)
}
const stepOf = (ms) => Math.floor(ms / 30_000)
function totp(key, step) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const h = createHmac('sha1', base32(key)).update(counter).digest()
  const o = h[19] & 15
  const n = (((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3]) % 1_000_000
  return String(n).padStart(6, '0')
}

test('a user turns on two-step verification, keeps the recovery codes, and logs in with the app’s code', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'sj_staff')
  await page.waitForURL(server.url + '/')
  await page.locator('[data-test="user-menu"]').click()
  await page.locator('[data-test="two-step-menu"]').click()
  await page.waitForURL(/\/account\/two-step$/)
  await page.locator('[data-test="two-step-start"]').click()
  const key = (await page.locator('[data-test="two-step-secret"]').innerText()).trim()
  assert.match(key, /^[A-Z2-7]{4}( [A-Z2-7]{4})+$/)
  assert.equal(await page.locator('.qr svg').count(), 1)
  await shot(page, 'two-step-enrol')
  const confirmed = stepOf(Date.now())
  await page.fill('[data-test="two-step-code"]', totp(key, confirmed))
  await page.locator('[data-test="two-step-confirm"]').click()
  const codes = page.locator('[data-test="two-step-codes"] li')
  await codes.first().waitFor()
  assert.equal(await codes.count(), 10)
  const recovery = (await codes.first().innerText()).trim()
  assert.match(recovery, /^[2-9A-Z]{5}-[2-9A-Z]{5}$/)
  await shot(page, 'two-step-recovery-codes')
  await page.locator('[data-test="two-step-codes-done"]').click()
  await page.locator('[data-test="two-step-state"]', { hasText: '已启用' }).waitFor()

  // The password alone no longer logs in: the code is asked for, a used one refused.
  const next = await newPage(browser, server.url)
  await login(next, 'sj_staff')
  await next.locator('[data-test="login-code-form"]').waitFor()
  await shot(next, 'two-step-login')
  await next.fill('#login-code', totp(key, confirmed))
  await next.press('#login-code', 'Enter')
  await next.locator('[data-test="login-error"]', { hasText: '验证码不正确或已使用过' }).waitFor()
  // The code of the step after the one used (an app a little ahead is accepted too).
  await next.fill('#login-code', totp(key, Math.max(stepOf(Date.now()), confirmed + 1)))
  await next.press('#login-code', 'Enter')
  await next.waitForURL(server.url + '/')

  // A recovery code does the same, once.
  const third = await newPage(browser, server.url)
  await login(third, 'sj_staff')
  await third.locator('[data-test="login-use-recovery"]').click()
  await third.fill('#login-recovery', recovery)
  await third.press('#login-recovery', 'Enter')
  await third.waitForURL(server.url + '/')
})

test('an account whose role the policy names is taken to the set-up page, and nowhere else', async () => {
  const sec = await newPage(browser, server.url)
  await login(sec, 'secadmin')
  await sec.waitForURL(server.url + '/')
  await sec.goto('/system/policy')
  await sec.locator('[data-test="policy-2fa-city_leader"]').click()
  await sec.locator('[data-test="policy-save"]').click()
  const saved = await (await sec.request.get('/api/v1/settings/security-policy')).json()
  assert.deepEqual(saved.second_factor_roles, ['city_leader'])

  const leader = await newPage(browser, server.url)
  await login(leader, 'city_leader', PASSWORD)
  await leader.waitForURL(/\/account\/two-step/)
  await leader.locator('[data-test="two-step-required"]').waitFor()
  await shot(leader, 'two-step-required')
  await leader.goto('/bulletins')
  await leader.waitForURL(/\/account\/two-step/)
})
