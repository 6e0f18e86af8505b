// The office's working-day calendar: 2026 as published, 2027 not yet — the office enters a day
// of it, and a phone shows the year without scrolling sideways.
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

test('the office enters a day of a year not yet published', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'xnb_admin')
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  await page.goto('/inspections/calendar')
  // Thursday 1 October 2026, National Day, is a published day off.
  while (!(await page.locator('[data-test="calendar-year"]').innerText()).includes('2026')) {
    await page.click('[data-test="calendar-prev"]')
  }
  const nationalDay = page.locator('[data-test="calendar-day-2026-10-01"]')
  await nationalDay.waitFor()
  assert.match(await nationalDay.getAttribute('class'), /\boff\b/)
  await page.click('[data-test="calendar-next"]')
  await page.locator('[data-test="calendar-unpublished"]').waitFor()
  await page.click('[data-test="calendar-day-2027-01-01"]')
  await page.locator('[data-test="calendar-day-dialog"]').waitFor()
  await page.click('[data-test="calendar-choice-off"]')
  await page.fill('#calendar-note', '元旦')
  await page.click('[data-test="calendar-day-save"]')
  const newYear = page.locator('[data-test="calendar-day-2027-01-01"]')
  await page.waitForFunction(() => document.querySelector('[data-test="calendar-day-2027-01-01"]')?.classList.contains('office'))
  assert.match(await newYear.getAttribute('class'), /\boff\b/)
  assert.match(await newYear.getAttribute('title'), /元旦/)
  await page.locator('[data-test="calendar-day-dialog"]').waitFor({ state: 'hidden' })
  await shot(page, 'office-calendar-2027')

  const phone = await newPage(browser, server.url, { phone: true })
  await login(phone, 'xnb_admin')
  await phone.waitForURL((u) => !u.pathname.startsWith('/login'))
  await phone.goto('/inspections/calendar')
  await phone.locator('[data-test="calendar-months"]').waitFor()
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`)
  await shot(phone, 'phone-calendar')
})
