// Covert inspection end to end: the office plans a visit to 市市场监督管理局 with the inspector on
// the team; the inspector records a finding on a phone; the office confirms and notifies it; the
// department then sees it, and another department does not.
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

/** A day counted from today in the city's time zone, as YYYY-MM-DD. */
function cityDay(offset = 0) {
  const d = new Date(Date.now() + offset * 86_400_000)
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(d)
}

function selectBox(page, id) {
  return page.locator('.el-form-item', { has: page.locator(`label[for="${id}"]`) }).locator('.el-select__wrapper')
}

async function choose(page, id, option) {
  await selectBox(page, id).click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: option }).first().click()
}

async function setDate(page, id, day) {
  await page.fill('#' + id, day)
  await page.press('#' + id, 'Enter')
}

const TITLE = '端到端暗访计划'
const DESCRIPTION = '端到端：窗口工作人员上班时间玩手机游戏约十分钟，群众排队等候。'
let findingId

test('the office plans a visit to 市市场监督管理局 with the inspector on the team', async () => {
  // The office may not list accounts: it adds the inspector by account id.
  const inspector = await newPage(browser, server.url)
  await login(inspector, 'inspector')
  await inspector.waitForURL(server.url + '/')
  const me = await (await inspector.request.get('/api/v1/me')).json()
  assert.ok(me.id > 0)
  await inspector.context().close()

  const page = await newPage(browser, server.url)
  await login(page, 'xnb_admin')
  await page.waitForURL(server.url + '/')
  await page.goto('/inspections/plans')
  await page.click('[data-test="plans-create"]')
  await page.fill('#plan-title', TITLE)
  await setDate(page, 'plan-start', cityDay(-7))
  await setDate(page, 'plan-end', cityDay(7))
  await choose(page, 'plan-status', '进行中')
  await page.locator('[data-test="plans-target-row-0"] .el-select__wrapper').first().click()
  await page.keyboard.type('市市场监督管理局')
  await page.locator('.el-tree-node__content:visible', { hasText: '市市场监督管理局' }).first().click()
  await choose(page, 'plan-team', '暗访人员')
  await page.keyboard.press('Escape')
  await shot(page, 'office-plan-form')
  await page.click('[data-test="plans-save"]')

  // The saved plan opens in its drawer, where the office schedules today's visit.
  const drawer = page.locator('[data-test="plans-detail"]')
  await drawer.locator('[data-test="plans-add-visit"]').click()
  await choose(page, 'visit-target', '市市场监督管理局')
  await page.fill('#visit-notes', '上午到场')
  await page.click('[data-test="visit-save"]')
  const visit = drawer.locator('[data-test="plans-visits"] .visit')
  await visit.first().waitFor()
  await page.locator('[data-test="visit-form"]').waitFor({ state: 'hidden' })
  assert.match(await visit.first().innerText(), /市市场监督管理局/)
  assert.match(await drawer.innerText(), /今天/)
  assert.match(await drawer.innerText(), /暗访人员/, 'the inspector is on the team')
  await shot(page, 'office-plan-detail')

  // The plan is secret: a department head cannot find it.
  const head = await newPage(browser, server.url)
  await login(head, 'sj_head')
  await head.waitForURL(server.url + '/')
  const plans = await (await page.request.get('/api/v1/plans')).json()
  const planId = plans.items.find((p) => p.title === TITLE).id
  assert.equal((await head.request.get(`/api/v1/plans/${planId}`)).status(), 404)
  await head.context().close()
})

test('the inspector records a finding on that visit at phone width', async () => {
  const page = await newPage(browser, server.url, { phone: true })
  await login(page, 'inspector')
  await page.waitForURL(server.url + '/')
  await page.goto('/inspections/record')
  // A single active plan opens by itself; among several, the inspector taps ours.
  const planButton = page.locator('[data-test^="record-plan-"]', { hasText: TITLE })
  const visits = page.locator('[data-test="record-visits"]', { hasText: TITLE })
  await planButton.or(visits).first().waitFor()
  if (await planButton.isVisible()) await planButton.click()
  await visits.waitFor()
  await shot(page, 'inspector-record-visits')
  await page.locator('[data-test^="record-visit-"]').first().click()
  await page.locator('[data-test="record-form"]').waitFor()
  assert.match(await page.locator('[data-test="record-department"]').innerText(), /市市场监督管理局/)
  await page.locator('[data-test="record-category-GAMING"]').click()
  // The category's default severity is pre-set.
  await page.locator('[data-test="record-severity"] .is-selected', { hasText: '严重' }).waitFor()
  await page.fill('#record-description', DESCRIPTION)
  await shot(page, 'inspector-record-form')
  await page.click('[data-test="record-submit"]')
  const success = page.locator('[data-test="record-success"]')
  await success.waitFor()
  const m = /#(\d+)/.exec(await success.innerText())
  assert.ok(m, 'the success card shows the draft’s number')
  findingId = Number(m[1])
  await page.locator('[data-test="record-recent"]', { hasText: '草稿' }).waitFor()
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 380, `the page is ${width}px wide at 375px`)
  await shot(page, 'inspector-record-saved')
  await page.click('[data-test="record-again"]')
  await page.locator('[data-test="record-form"]').waitFor()
})

test('the office confirms the draft and notifies the department', async () => {
  assert.ok(findingId, 'a finding was recorded')
  const page = await newPage(browser, server.url)
  await login(page, 'xnb_admin')
  await page.waitForURL(server.url + '/')
  await page.goto('/inspections/findings')
  // The review queue: drafts first.
  const open = page.locator(`[data-test="findings-open-${findingId}"]`)
  await open.waitFor()
  await shot(page, 'office-findings-queue')
  await open.click()
  const drawer = page.locator('[data-test="findings-detail"]')
  await drawer.locator('[data-test="findings-description"]', { hasText: DESCRIPTION }).waitFor()
  assert.equal(await drawer.locator('[data-test="findings-notify"]').count(), 0, 'a draft is confirmed before it is notified')
  await drawer.locator('[data-test="findings-confirm"]').click()
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await drawer.locator('[data-test="findings-detail-state"]', { hasText: '已确认' }).waitFor()
  await drawer.locator('[data-test="findings-notify"]').click()
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await drawer.locator('[data-test="findings-detail-state"]', { hasText: '已通知' }).waitFor()
  await page.locator('.el-message-box').waitFor({ state: 'hidden' })
  const history = await drawer.locator('[data-test="findings-history"]').innerText()
  assert.match(history, /记录/)
  assert.match(history, /草稿 → 已确认/)
  assert.match(history, /已确认 → 已通知/)
  assert.equal(await drawer.locator('[data-test="findings-confirm"], [data-test="findings-notify"], [data-test="findings-withdraw"]').count(), 0)
  await shot(page, 'office-finding-notified')
})

test('the department sees the notified finding, another department does not', async () => {
  const head = await newPage(browser, server.url)
  await login(head, 'sj_head')
  await head.waitForURL(server.url + '/')
  await head.goto('/inspections/findings')
  const open = head.locator(`[data-test="findings-open-${findingId}"]`)
  await open.waitFor()
  await open.click()
  const drawer = head.locator('[data-test="findings-detail"]')
  await drawer.locator('[data-test="findings-description"]', { hasText: DESCRIPTION }).waitFor()
  const text = await drawer.innerText()
  assert.doesNotMatch(text, /记录人|暗访计划|暗访人员/, 'the department does not learn who found it')
  assert.equal(await drawer.locator('[data-test="findings-confirm"], [data-test="findings-notify"], [data-test="findings-withdraw"]').count(), 0)
  await shot(head, 'head-finding')

  const other = await newPage(browser, server.url)
  await login(other, 'ga_head')
  await other.waitForURL(server.url + '/')
  const listed = other.waitForResponse((r) => r.url().includes('/api/v1/findings?'))
  await other.goto('/inspections/findings')
  await listed
  await other.locator('[data-test="findings-table"] .el-loading-mask').waitFor({ state: 'hidden' })
  assert.equal(await other.locator(`[data-test="findings-open-${findingId}"]`).count(), 0)
  const search = await (await other.request.get('/api/v1/findings?q=' + encodeURIComponent('端到端'))).json()
  assert.equal(search.total, 0, 'another department finds nothing of it')
  assert.equal((await other.request.get(`/api/v1/findings/${findingId}`)).status(), 404)
  await shot(other, 'other-head-findings')
})
