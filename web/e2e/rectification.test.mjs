// Rectification: a department head answers a returned order from the inbox, the office accepts
// the report, and the history keeps both versions; the office's bulletins and the public page.
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

async function signedIn(username, options) {
  const page = await newPage(browser, server.url, options)
  await login(page, username)
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  return page
}

test('a department head answers a returned order and the office accepts the report', async () => {
  const head = await signedIn('sj_head')
  // The demo's market regulator has a returned report to resubmit: it is in the inbox.
  await head.goto('/inbox')
  const task = head.locator('[data-test="inbox-task"]', { hasText: '被退回' }).first()
  await task.waitFor()
  await shot(head, 'head-inbox')
  await task.click()
  await head.waitForURL(/\/rectification\/\d+$/)
  const orderPath = new URL(head.url()).pathname
  await head.locator('[data-test="order-status"]').waitFor()
  assert.match(await head.locator('[data-test="order-status"]').innerText(), /已退回/)

  // The head writes version 2 and submits it.
  await head.fill('#report-cause', '窗口人员纪律观念淡薄，科室日常管理不严，责任落实不到位。')
  await head.fill('#report-measures', '一是实行AB岗和离岗登记；二是纪检组每周巡查；三是整改情况与绩效挂钩。')
  await head.fill('#report-results', '整改后未再发现脱岗现象。')
  await head.fill('#report-responsible', '当事人诫勉谈话并作书面检查，科室负责人取消本年度评优资格。')
  await head.click('[data-test="save-draft"]')
  await head.locator('[data-test="submit-report"]').waitFor()
  await head.click('[data-test="submit-report"]')
  await head.locator('[data-test="confirm-submit"]').waitFor()
  await head.click('[data-test="confirm-submit"]')
  await head.waitForFunction(() => /待审核/.test(document.querySelector('[data-test="order-status"]')?.textContent ?? ''))
  await shot(head, 'head-order-submitted')

  // The office reviews and accepts it.
  const office = await signedIn('xnb_admin')
  await office.goto(orderPath)
  await office.locator('[data-test="review-accept"]').waitFor()
  await office.click('[data-test="review-accept"]')
  await office.waitForFunction(() => /已办结/.test(document.querySelector('[data-test="order-status"]')?.textContent ?? ''))
  await shot(office, 'office-order-accepted')

  // The head sees both versions: the returned one with the office's comments, and the accepted.
  await head.reload()
  await head.locator('[data-test="report-status-2"]').waitFor()
  assert.match(await head.locator('[data-test="report-status-1"]').innerText(), /退回/)
  assert.match(await head.locator('[data-test="report-status-2"]').innerText(), /采纳/)
  assert.match(await head.locator('[data-test="review-comment-1"]').innerText(), /原因分析不够深入/)

  // On a phone the order page does not scroll sideways.
  const phone = await signedIn('sj_head', { phone: true })
  await phone.goto(orderPath)
  await phone.locator('[data-test="order-status"]').waitFor()
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `the order page scrolls sideways by ${overflow}px`)
  await shot(phone, 'phone-order')
})

test('the office reads its bulletins and the public reads a public one without logging in', async () => {
  const office = await signedIn('xnb_admin')
  await office.goto('/bulletins')
  await office.locator('[data-test="bulletins-table"]').waitFor()
  await office.locator('text=效能通报〔2026〕3号').first().waitFor()
  await shot(office, 'office-bulletins')
  await office.locator('text=效能通报〔2026〕3号').first().click()
  await office.locator('[data-test="bulletin-document"]').waitFor()
  await office.locator('[data-test="bulletin-instructions"]').waitFor()
  await shot(office, 'office-bulletin')

  const visitor = await newPage(browser, server.url)
  const res = await visitor.goto('/public/bulletins/2026/3')
  assert.equal(res.status(), 200)
  const text = await visitor.locator('main').innerText()
  assert.match(text, /效能通报〔2026〕3号/)
  await shot(visitor, 'public-bulletin')
})
