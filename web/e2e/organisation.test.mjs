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

/** The visible box of the select whose label points at `id`, as a user would click it. */
function selectBox(page, id) {
  return page.locator('.el-form-item', { has: page.locator(`label[for="${id}"]`) }).locator('.el-select__wrapper')
}

/** Chooses an option of an Element Plus select. */
async function choose(page, id, option) {
  await selectBox(page, id).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: option }).first().click()
}

/** Chooses a department in a DeptTreeSelect by typing part of its name. */
async function chooseDepartment(page, id, name) {
  await selectBox(page, id).click()
  await page.keyboard.type(name)
  await page.locator('.el-tree-node__content:visible', { hasText: name }).first().click()
}

test('the office admin creates a department and a person and sees them listed', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'xnb_admin')
  await page.waitForURL(server.url + '/')
  await page.goto('/org/departments')
  await page.click('[data-test="dept-create"]')
  await page.fill('#dept-code', 'E2E-TEST')
  await page.fill('#dept-name', '端到端测试局')
  await choose(page, 'dept-category', '综合')
  await page.click('[data-test="dept-save"]')
  await page.locator('[data-test="dept-node-E2E-TEST"]').waitFor()
  await shot(page, 'office-department-created')

  await page.goto('/org/people')
  await page.click('[data-test="people-create"]')
  await page.fill('#person-employee-no', 'E2E001')
  await page.fill('#person-name', '测试人员')
  await choose(page, 'person-gender', '男')
  await chooseDepartment(page, 'person-department', '端到端测试局')
  await page.fill('#person-mobile', '13912345678')
  await page.click('[data-test="people-save"]')
  await page.locator('.el-message--success').waitFor()
  await page.fill('input[data-test="people-q"]', 'E2E001')
  await page.keyboard.press('Enter')
  const row = page.locator('[data-test="people-table"] .el-table__row', { hasText: '测试人员' })
  await row.waitFor()
  assert.match(await row.innerText(), /端到端测试局/)
  assert.match(await row.innerText(), /139\*\*\*\*5678/, 'the list shows the number masked')
  await shot(page, 'office-person-listed')
})

test('a department head sees only their own department', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'sj_head')
  await page.waitForURL(server.url + '/')
  const api = await (await page.request.get('/api/v1/people?page_size=1')).json()
  await page.goto('/org/people')
  await page.locator('[data-test="people-table"] .el-table__row').first().waitFor()
  const depts = await page.locator('[data-test="people-table"] .el-table__row').allInnerTexts()
  assert.ok(depts.length > 0)
  for (const text of depts) assert.match(text, /市市场监督管理局|登记注册科|综合执法稽查支队/, text)
  assert.match(await page.locator('.el-pagination__total').innerText(), new RegExp(String(api.total)))
  await shot(page, 'head-people')
  await page.goto('/org/departments')
  await page.locator('[data-test="dept-node-SJ"]').waitFor()
  assert.equal(await page.locator('[data-test="dept-node-GA"]').count(), 0, 'no other department in the tree')
  assert.equal(await page.locator('[data-test="dept-create"]').count(), 0, 'no create button without org:write')
  await shot(page, 'head-departments')
  // Another department's person is not there even by address.
  const other = await page.request.get('/api/v1/people/1')
  assert.equal(other.status(), 404)
})

test('at phone width the menu opens from a button and lists fit the screen', async () => {
  const page = await newPage(browser, server.url, { phone: true })
  await login(page, 'xnb_admin')
  await page.waitForURL(server.url + '/')
  await page.getByRole('button', { name: '菜单' }).click()
  await page.getByRole('menuitem', { name: '人员名册' }).click()
  await page.waitForURL(/\/org\/people$/)
  await page.locator('[data-test="people-table"] .el-table__row').first().waitFor()
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 380, `the page is ${width}px wide at 375px`)
  await shot(page, 'phone-people')
})
