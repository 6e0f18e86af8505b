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

test('a wrong password shows the server’s message, in the chosen language', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'sj_head', 'not-the-password')
  const alert = page.locator('[data-test="login-error"]')
  await alert.waitFor()
  assert.match(await alert.innerText(), /用户名或密码错误，再错 4 次账号将被锁定/)
  await shot(page, 'login-wrong-password')
  await page.getByRole('button', { name: 'English' }).click()
  await login(page, 'sj_head', 'still-wrong')
  await page.locator('[data-test="login-error"]', { hasText: 'Wrong user name or password' }).waitFor()
  assert.match(await alert.innerText(), /3 attempts left/)
  await shot(page, 'login-wrong-password-en')
})

test('after login the menu offers only what the role may do, and English is remembered', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'auditor')
  await page.getByRole('menuitem', { name: '审计日志' }).waitFor()
  assert.equal(await page.getByRole('menuitem', { name: '人员名册' }).count(), 0)
  await page.getByText('English', { exact: true }).click()
  await page.getByRole('menuitem', { name: 'Audit log' }).waitFor()
  await page.reload()
  await page.getByRole('menuitem', { name: 'Audit log' }).waitFor()
  assert.equal(await page.locator('html').getAttribute('lang'), 'en')
  await shot(page, 'auditor-home-en')
})

test('a page asked for before login opens after it', async () => {
  const page = await newPage(browser, server.url)
  await page.goto('/org/people')
  await page.waitForURL(/\/login\?redirect=/)
  await page.fill('#login-username', 'xnb_admin')
  await page.fill('#login-password', 'Xiaoneng@2026')
  await page.press('#login-password', 'Enter')
  await page.waitForURL(/\/org\/people$/)
})

test('logging out ends the session', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'city_leader')
  await page.locator('[data-test="user-menu"]').click()
  await page.locator('[data-test="logout"]').click()
  await page.waitForURL(/\/login/)
  const me = await page.request.get('/api/v1/me')
  assert.equal(me.status(), 401)
})
