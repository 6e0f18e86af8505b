import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { launch, login, newPage, shot, startServer } from './harness.mjs'

let server, browser
before(async () => {
  server = await startServer()
  browser = await launch()
})
after(async () => {
  await browser?.close()
  await server?.stop()
})

test('a forgotten password is reset by two admins, and only the user chooses the new one', async () => {
  // The system admin asks, and is shown the first half of the code.
  const sys = await newPage(browser, server.url)
  await login(sys, 'sysadmin')
  await sys.waitForURL(server.url + '/')
  await sys.goto('/system/users')
  await sys.fill('[data-test="users-q"]', 'sj_staff')
  await sys.press('[data-test="users-q"]', 'Enter')
  await sys.locator('[data-test="users-more-sj_staff"]').click()
  await sys.locator('[data-test="users-reset-sj_staff"]').click()
  await sys.fill('[data-test="users-reset-reason"]', '本人来电忘记密码，已核对工号')
  await sys.locator('[data-test="users-reset-save"]').click()
  const first = (await sys.locator('[data-test="code-half-value"]').innerText()).trim()
  assert.match(first, /^[2-9A-Z]{5}-[2-9A-Z]{5}$/)
  await shot(sys, 'reset-first-half')

  // The security admin approves, and is shown the second half.
  const sec = await newPage(browser, server.url)
  await login(sec, 'secadmin')
  await sec.waitForURL(server.url + '/')
  await sec.goto('/system/password-resets')
  await sec.locator('[data-test^="resets-approve-"]').first().click()
  await sec.getByRole('button', { name: /确定|OK/ }).click()
  const second = (await sec.locator('[data-test="code-half-value"]').innerText()).trim()
  assert.notEqual(first, second)
  await sec.waitForTimeout(500) // the confirmation box fades out
  await shot(sec, 'reset-second-half')

  // The user sets a new password from the login page, and logs in with it.
  const user = await newPage(browser, server.url)
  await user.goto('/login')
  await user.locator('[data-test="login-reset-link"]').click()
  await user.fill('#reset-username', 'sj_staff')
  await user.fill('#reset-code', `${first} ${second}`)
  await user.fill('#reset-new', 'Chosen#ByMe2026')
  await user.fill('#reset-confirm', 'Chosen#ByMe2026')
  await shot(user, 'reset-use-code')
  await user.locator('[data-test="reset-submit"]').click()
  await user.waitForURL(/\/login/)
  await login(user, 'sj_staff', 'Chosen#ByMe2026')
  await user.waitForURL((u) => !u.pathname.startsWith('/login'))
})
