import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { crc32, deflateSync } from 'node:zlib'
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

/** A PNG of `width` × `height` pixels, shaded so it is plainly a picture. */
function png(width, height) {
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length)
    out.writeUInt32BE(data.length, 0)
    out.write(type, 4, 'latin1')
    data.copy(out, 8)
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length)
    return out
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // 8-bit RGB
  const rows = Buffer.alloc((width * 3 + 1) * height)
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1)
    for (let x = 0; x < width; x++) rows.set([(x * 255) / width, (y * 255) / height, 160], row + 1 + x * 3)
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))])
}

/** A whole number shown in the figures' box `n` (0: cases … 5: red cards). */
async function figure(page, n) {
  const text = await page.locator('[data-test="cases-figures"] .figure .value').nth(n).innerText()
  return text
}

test('the office sees every department’s cases and cards, and narrows to the red ones', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'xnb_admin')
  await page.waitForURL(server.url + '/')
  await page.goto('/service/cases')
  const summary = page.locator('[data-test="cases-summary"] .el-table__body-wrapper .el-table__row')
  await summary.first().waitFor()
  assert.ok((await summary.count()) >= 10, 'the demo city’s window departments are listed')
  assert.ok(Number(await figure(page, 0)) > 300, 'the demo city’s cases are counted')
  assert.match(await figure(page, 2), /^\d+\.\d%$/, 'an on-time rate is shown')
  const red = Number(await figure(page, 5))
  assert.ok(red > 0, 'the demo city has red cards')
  await shot(page, 'service-cases-office')

  await page.locator('[data-test="cases-card"]').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '红牌' }).click()
  const rows = page.locator('[data-test="cases-table"] .el-table__body-wrapper .el-table__row')
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-test="cases-figures"] .figure .value')[0]?.textContent?.trim() === String(n),
    red,
  )
  await rows.first().waitFor()
  const cards = await page.locator('[data-test="cases-table"] [data-test^="cases-card-"]').allInnerTexts()
  assert.ok(cards.length > 0 && cards.every((c) => c === '红牌'), `only red cards: ${cards}`)

  await rows.first().click()
  const drawer = page.locator('[data-test="case-drawer"]')
  await drawer.locator('[data-test="case-used"]').waitFor()
  assert.match(await drawer.innerText(), /承诺办结日/)
  assert.match(await drawer.locator('[data-test="case-used"]').innerText(), /已用 \d+ \/ 承诺 \d+ 个工作日/)
  await page.waitForTimeout(400) // the drawer slides in
  await shot(page, 'service-case-drawer')
})

test('a department head sees their own department’s cases only', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'sj_head')
  await page.waitForURL(server.url + '/')
  await page.goto('/service/cases')
  const rows = page.locator('[data-test="cases-table"] .el-table__body-wrapper .el-table__row')
  await rows.first().waitFor()
  const text = await page.locator('[data-test="cases-table"]').innerText()
  assert.match(text, /登记注册科/)
  for (const other of ['不动产', '公积金', '出入境']) assert.doesNotMatch(text, new RegExp(other))
  assert.equal(await page.locator('a[href="/service/settings"]').count(), 0, 'no settings in a head’s menu')
  await shot(page, 'service-cases-head')
})

test('the office connects a system, which pushes a case with its key until the key is revoked', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'xnb_admin')
  await page.waitForURL(server.url + '/')
  await page.goto('/service/settings')
  await page.locator('[data-test="clients-table"] .el-table__row').first().waitFor()
  await page.click('[data-test="clients-create"]')
  await page.fill('#client-name', '不动产登记系统')
  await page.click('[data-test="clients-save"]')
  const key = (await page.locator('[data-test="clients-key-value"]').innerText()).trim()
  assert.match(key, /^xn_[0-9a-f]{10}_/)
  await shot(page, 'service-key-shown-once')
  await page.click('[data-test="clients-done"]')

  const push = (k) =>
    fetch(server.url + '/api/v1/intake/cases/E2E-0001', {
      method: 'PUT',
      headers: { authorization: 'Bearer ' + k, 'content-type': 'application/json' },
      body: JSON.stringify({ item_code: 'BDC-001', applicant_type: 'person', accepted_at: new Date(Date.now() - 60_000).toISOString() }),
    })
  assert.equal((await push(key)).status, 201)
  assert.equal((await push(key)).status, 200, 'the same number again updates it')

  const row = page.locator('[data-test="clients-table"] .el-table__row', { hasText: '不动产登记系统' })
  await row.locator('[data-test^="clients-revoke-"]').click()
  await page.locator('.el-message-box__btns .el-button--primary').click()
  await row.locator('.el-tag', { hasText: '已停用' }).waitFor()
  assert.equal((await push(key)).status, 401, 'a revoked key is refused')
})

test('an item promising more than the law allows is refused next to the field', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'xnb_admin')
  await page.waitForURL(server.url + '/')
  await page.goto('/service/items')
  await page.locator('[data-test="items-table"] .el-table__row').first().waitFor()
  await page.click('[data-test="items-create"]')
  await page.fill('#item-code', 'E2E-001')
  await page.fill('#item-name', '端到端测试事项')
  await page.locator('.el-form-item', { has: page.locator('label[for="item-department"]') }).locator('.el-select__wrapper').click()
  await page.keyboard.type('市民政局')
  await page.locator('.el-tree-node__content:visible', { hasText: '市民政局' }).first().click()
  await page.fill('#item-promised', '10')
  await page.fill('#item-legal', '5')
  await page.click('[data-test="items-save"]')
  await page.locator('.el-form-item__error', { hasText: '承诺时限不能长于法定时限' }).waitFor()
  await page.fill('#item-legal', '20')
  await page.click('[data-test="items-save"]')
  await page.locator('.el-message--success').waitFor()
  await page.fill('input[data-test="items-q"]', 'E2E-001')
  await page.keyboard.press('Enter')
  await page.locator('[data-test="items-table"] .el-table__row', { hasText: '端到端测试事项' }).waitFor()
  await shot(page, 'service-items')
})

test('a file without the case columns is refused in the import dialog, and the roster import still offers its template', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'xnb_admin')
  await page.waitForURL(server.url + '/')
  // Any workbook the server made will do: the roster's template has none of the case columns.
  const template = await page.request.get('/api/v1/people/import-template')
  assert.equal(template.status(), 200)
  const file = { name: 'roster.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: await template.body() }

  await page.goto('/service/cases')
  await page.click('[data-test="cases-import"]')
  const dialog = page.locator('[data-test="cases-import-dialog"]')
  await dialog.locator('input[type="file"]').setInputFiles(file)
  await dialog.locator('[data-test="cases-import-submit"]').click()
  await dialog.locator('[data-test="cases-import-error"]', { hasText: '缺少必需的列' }).waitFor()
  assert.equal(await dialog.locator('[data-test="cases-import-template"]').count(), 0, 'cases have no template')
  await shot(page, 'service-cases-import-refused')

  await page.goto('/org/people')
  await page.click('[data-test="people-import"]')
  const roster = page.locator('[data-test="people-import-dialog"]')
  await roster.locator('[data-test="people-import-template"]').waitFor()
  assert.equal(await roster.locator('li').count(), 6)
})

test('a citizen rates a window from its QR code on a phone; the office releases the held rating', async () => {
  const office = await newPage(browser, server.url)
  await login(office, 'xnb_admin')
  await office.waitForURL(server.url + '/')
  const window = await office.evaluate(async () => {
    const r = await fetch('/api/v1/windows?page_size=1&status=active')
    return (await r.json()).items[0]
  })

  // The page the window's QR code opens, on a phone: no script, a form that works without one.
  const phone = await newPage(browser, server.url, { phone: true })
  await phone.goto(`/r/w${window.id}`)
  assert.equal(await phone.locator('script').count(), 0, 'the rating page carries no script')
  assert.match(await phone.locator('body').innerText(), new RegExp(window.name), 'the page names the window')
  await shot(phone, 'rating-qr-page-phone')
  await phone.click('label[for="l-dissatisfied"]')
  await phone.locator('input[name="reasons_dissatisfied"]').first().check()
  await phone.fill('textarea[name="comment"]', '排队一个多小时，叫号屏坏了没人管')
  await phone.fill('input[name="phone"]', '13912345678')
  await phone.click('button[type="submit"]')
  await phone.waitForURL(/\/r\/thanks/)
  assert.match(await phone.locator('body').innerText(), /审核后计入/, 'a rating naming no case is held, and the rater is told')
  await shot(phone, 'rating-thanks-phone')

  // The office finds it held, with the phone masked, and releases it with a reason.
  await office.goto('/service/ratings')
  const table = office.locator('[data-test="ratings-table"]')
  const row = table.locator('.el-table__body-wrapper .el-table__row', { hasText: '叫号屏坏了' })
  await row.waitFor()
  assert.match(await row.innerText(), /待审核[\s\S]*未关联办件/)
  assert.match(await row.innerText(), /139\*\*\*\*5678/, 'the phone is masked')
  await row.locator('.el-checkbox').click()
  await office.click('[data-test="ratings-release"]')
  const dialog = office.locator('[data-test="ratings-review"]')
  await dialog.locator('[data-test="ratings-review-send"]').click()
  await dialog.locator('.el-form-item__error').waitFor()
  assert.match(await dialog.innerText(), /请说明理由/, 'a review without a reason is refused')
  await dialog.locator('textarea').fill('经回访核实为群众本人评价')
  await dialog.locator('[data-test="ratings-review-send"]').click()
  await row.locator('[data-test^="ratings-review-"]').waitFor()
  assert.match(await row.innerText(), /有效[\s\S]*经回访核实为群众本人评价/)
  await office.locator('.el-modal-dialog').waitFor({ state: 'hidden' })
  assert.equal(await table.locator('.el-checkbox.is-checked').count(), 0, 'nothing stays ticked')
  assert.ok(await office.locator('[data-test="ratings-release"]').isDisabled(), 'the released rating is no longer held')
  await shot(office, 'ratings-released')
})

test('the office adds a reason to 不满意 as a new version; a bad code is refused next to its field', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'xnb_admin')
  await page.waitForURL(server.url + '/')
  await page.goto('/service/settings')
  const card = page.locator('[data-test="rating-reasons"]')
  const versionTag = card.locator('[data-test="reasons-version"]')
  await versionTag.waitFor()
  const versionOf = async () => Number(/第 (\d+) 版/.exec(await versionTag.innerText())?.[1])
  const before = await versionOf()
  assert.ok(before >= 1, 'a version is shown')
  const save = card.locator('[data-test="reasons-save"]')
  assert.ok(await save.isDisabled(), 'nothing to save yet')

  await card.locator('[data-test="reasons-tab-dissatisfied"]').click()
  const rows = card.locator('[data-test^="reason-dissatisfied-"]')
  const n = await rows.count()
  await card.locator('[data-test="reasons-add-dissatisfied"]').click()
  const row = card.locator(`[data-test="reason-dissatisfied-${n}"]`)
  await row.locator('input[data-test="reason-code"]').fill('Bad Code')
  await row.locator('input[data-test="reason-zh"]').fill('退件未说明理由')
  await row.locator('input[data-test="reason-en"]').fill('Returned without a reason')
  assert.ok(await save.isEnabled(), 'a change may be saved')
  await save.click()
  await row.locator('.el-form-item__error', { hasText: '原因编码须为' }).waitFor()
  assert.equal(await versionOf(), before, 'nothing was saved')
  await shot(page, 'service-reasons-bad-code')

  await row.locator('input[data-test="reason-code"]').fill('returned_unexplained')
  await save.click()
  await page.locator('.el-message--success', { hasText: `已保存为第 ${before + 1} 版` }).waitFor()
  assert.equal(await versionOf(), before + 1, 'the version goes up')
  assert.equal(await row.locator('.el-form-item__error').count(), 0)
  assert.ok(await save.isDisabled(), 'saved: nothing left to save')

  // Someone else saves meanwhile: this editor's save is refused and the latest version shown.
  const other = await page.evaluate(async () => {
    const r = await fetch('/api/v1/rating-reasons').then((r) => r.json())
    r.reasons.basic.push({ code: 'other_editor', zh: '另一位编辑', en: 'Another editor' })
    return fetch('/api/v1/rating-reasons', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(r) }).then((r) => r.status)
  })
  assert.equal(other, 200)
  await row.locator('input[data-test="reason-zh"]').fill('退件不说明理由')
  await save.click()
  await page.locator('.el-message--warning', { hasText: '其他人已在此期间保存' }).waitFor()
  await page.waitForFunction((v) => document.querySelector('[data-test="reasons-version"]')?.textContent?.includes(`第 ${v} 版`), before + 2)
  assert.equal(await row.locator('input[data-test="reason-zh"]').inputValue(), '退件未说明理由', 'the latest version is shown')

  await page.reload()
  await versionTag.waitFor()
  await card.locator('[data-test="reasons-tab-dissatisfied"]').click()
  assert.equal(await row.locator('input[data-test="reason-code"]').inputValue(), 'returned_unexplained', 'the new reason is kept')
  await page.waitForTimeout(400) // the tab's underline slides over
  await shot(page, 'service-reasons')
})

test('a citizen complains about a window on a phone; its department head verifies, rectifies and calls back until the ticket closes', async () => {
  const office = await newPage(browser, server.url)
  await login(office, 'xnb_admin')
  await office.waitForURL(server.url + '/')
  // sj_head heads 登记注册科 of the market regulation bureau: a window of theirs.
  const window = await office.evaluate(async () => {
    const r = await fetch('/api/v1/windows?page_size=200&status=active')
    return (await r.json()).items.find((w) => w.department_name === '登记注册科')
  })
  assert.ok(window, 'the demo city has a window of 登记注册科')

  // The complaint form the window's page links to, on a phone: no script.
  const citizen = await newPage(browser, server.url, { phone: true })
  await citizen.goto(`/r/w${window.id}/complaint`)
  assert.equal(await citizen.locator('script').count(), 0, 'the complaint page carries no script')
  await citizen.fill('textarea[name="content"]', '上午在窗口办理营业执照，工作人员说材料不全却不讲缺什么，来回跑了三趟')
  await citizen.fill('input[name="phone"]', '13812345678')
  // A photo of the counter, taller than the drawer shows it.
  await citizen.setInputFiles('input[name="photo"]', { name: 'counter.png', mimeType: 'image/png', buffer: png(400, 600) })
  await shot(citizen, 'ticket-complaint-phone')
  await citizen.click('button[type="submit"]')
  await citizen.waitForURL(/\/r\/thanks\?.*ticket=GD-/)
  const number = new URL(citizen.url()).searchParams.get('ticket')
  assert.match(number, /^GD-\d{4}-\d{6}$/)
  assert.match(await citizen.locator('body').innerText(), new RegExp(number), 'the citizen is given the ticket’s number')
  await shot(citizen, 'ticket-complaint-thanks-phone')

  // The department head finds it in the list, due for verification, and opens it. The photo is
  // fetched (and its viewing audited) only once the ticket is opened.
  const head = await newPage(browser, server.url)
  const photoRequests = []
  head.on('request', (r) => {
    if (/^\/api\/v1\/tickets\/\d+\/photo$/.test(new URL(r.url()).pathname)) photoRequests.push(r.url())
  })
  await login(head, 'sj_head')
  await head.waitForURL(server.url + '/')
  await head.goto('/service/tickets')
  const row = head.locator('[data-test="tickets-table"] .el-table__body-wrapper .el-table__row', { hasText: number })
  await row.waitFor()
  assert.match(await row.innerText(), /投诉[\s\S]*登记注册科[\s\S]*待核实[\s\S]*剩 \d+ 天/)
  assert.equal(photoRequests.length, 0, 'the list fetches no photo')
  await shot(head, 'tickets-head')
  await row.click()
  await head.waitForURL(/\/service\/tickets\?id=\d+/)
  const id = Number(new URL(head.url()).searchParams.get('id'))
  const drawer = head.locator('[data-test="ticket-drawer"]')
  await drawer.locator('[data-test="ticket-action-verify"]').waitFor()
  assert.match(await drawer.locator('[data-test="ticket-content"]').innerText(), /来回跑了三趟/)
  assert.equal(await drawer.locator('[data-test="ticket-phone"]').innerText(), '138****5678', 'the phone is masked')
  assert.equal(await drawer.locator('[data-test="ticket-appeal-open"]').count(), 1, 'the department may appeal')
  assert.equal(await drawer.locator('[data-test="ticket-action-rectify"]').count(), 0, 'only the steps allowed now')
  // The photo sent with the complaint, kept to a modest height, opens full size on a click.
  const photo = drawer.locator('[data-test="ticket-photo"] img')
  await photo.waitFor()
  await head.waitForFunction((img) => img.complete && img.naturalWidth > 0, await photo.elementHandle())
  assert.equal(await photo.getAttribute('src'), `/api/v1/tickets/${id}/photo`)
  assert.equal(await photo.getAttribute('alt'), `工单 ${number} 投诉人上传的照片`)
  assert.equal(await drawer.locator('.photo-figure figcaption').innerText(), '投诉人上传的照片')
  const box = await photo.boundingBox()
  assert.ok(box && box.height <= 240 && box.height > 200 && box.width < box.height, `the photo is shown whole, at most 240 px high: ${JSON.stringify(box)}`)
  assert.deepEqual(photoRequests, [`${server.url}/api/v1/tickets/${id}/photo`], 'the photo is fetched once the ticket is opened')
  await head.waitForTimeout(400) // the drawer slides in
  await shot(head, 'ticket-drawer-verify')
  await photo.click()
  const viewer = head.locator('.el-image-viewer__wrapper')
  await viewer.locator('img.el-image-viewer__img').waitFor()
  await head.waitForTimeout(400) // the viewer fades in
  await shot(head, 'ticket-photo-preview')
  await head.keyboard.press('Escape')
  await viewer.waitFor({ state: 'detached' })

  // Verifying says what was found: without it the step is refused next to the field.
  await drawer.locator('[data-test="ticket-submit-verify"]').click()
  await drawer.locator('[data-test="ticket-action-verify"] .el-form-item__error', { hasText: '请填写说明' }).waitFor()
  await drawer.locator('textarea[data-test="ticket-text-verify"]').fill('经调取窗口录像核实，受理人员未一次性告知所缺材料，情况属实')
  await drawer.locator('[data-test="ticket-submit-verify"]').click()
  await drawer.locator('[data-test="ticket-state"]', { hasText: '待整改' }).waitFor()
  await drawer.locator('textarea[data-test="ticket-text-rectify"]').fill('对受理人员批评教育，窗口张贴材料清单并推行一次性告知')
  await drawer.locator('[data-test="ticket-submit-rectify"]').click()
  await drawer.locator('[data-test="ticket-state"]', { hasText: '待回访' }).waitFor()
  assert.match(await drawer.locator('[data-test="ticket-work"]').innerText(), /核实情况[\s\S]*情况属实[\s\S]*整改情况[\s\S]*一次性告知/)
  assert.match(await drawer.locator('[data-test="ticket-history"]').innerText(), /生成工单[\s\S]*核实[\s\S]*市场监管局局长[\s\S]*整改/)

  // The callback, on the head's phone from the notification's link: the result must be chosen.
  const mobile = await newPage(browser, server.url, { phone: true })
  await login(mobile, 'sj_head')
  await mobile.waitForURL(server.url + '/')
  await mobile.goto('/service/tickets')
  await mobile.locator(`[data-test="tickets-row-${id}"]`, { hasText: '待回访' }).waitFor()
  await shot(mobile, 'tickets-head-phone')
  await mobile.goto(`/service/tickets?id=${id}`)
  const sheet = mobile.locator('[data-test="ticket-drawer"]')
  await sheet.locator('[data-test="ticket-action-call_back"]').waitFor()
  await mobile.waitForTimeout(400) // the drawer slides in
  await shot(mobile, 'ticket-drawer-phone')
  await sheet.locator('[data-test="ticket-reveal"]').click()
  await sheet.locator('[data-test="ticket-phone"]', { hasText: '13812345678' }).waitFor()
  await sheet.locator('textarea[data-test="ticket-text-call_back"]').fill('电话回访，群众对整改措施表示认可')
  await sheet.locator('[data-test="ticket-submit-call_back"]').click()
  await sheet.locator('[data-test="ticket-action-call_back"] .el-form-item__error', { hasText: '请选择回访结果' }).waitFor()
  await shot(mobile, 'ticket-drawer-callback-phone')
  await sheet.locator('[data-test="ticket-satisfied-yes"]').click()
  await sheet.locator('[data-test="ticket-submit-call_back"]').click()
  await sheet.locator('[data-test="ticket-state"]', { hasText: '已办结' }).waitFor()
  assert.equal(await sheet.locator('[data-test^="ticket-action-"]').count(), 0, 'nothing is left to do')
  assert.match(await sheet.locator('[data-test="ticket-work"]').innerText(), /回访情况[\s\S]*满意[\s\S]*表示认可/)
  await shot(mobile, 'ticket-closed-phone')

  // The head's list on the desktop shows it closed; the office sees it too, with nothing to do.
  await head.locator('.el-drawer__close-btn').click()
  await head.waitForURL(/\/service\/tickets$/)
  await head.reload()
  await head.locator(`[data-test="tickets-state-${id}"]`, { hasText: '已办结' }).waitFor()
  await office.goto(`/service/tickets?id=${id}`)
  await office.locator('[data-test="ticket-drawer"] [data-test="ticket-state"]', { hasText: '已办结' }).waitFor()
  assert.equal(await office.locator('[data-test="ticket-drawer"] [data-test^="ticket-action-"]').count(), 0)
  await head.waitForTimeout(300)
  await shot(head, 'tickets-head-closed')
})

test('the office sets the tickets’ working-day deadlines', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'xnb_admin')
  await page.waitForURL(server.url + '/')
  await page.goto('/service/settings')
  const card = page.locator('[data-test="ticket-policy"]')
  await card.waitFor()
  const verify = card.locator('input#ticket-policy-verify_days')
  assert.equal(await verify.inputValue(), '5', 'five working days to verify by default')
  const save = card.locator('[data-test="ticket-policy-save"]')
  assert.ok(await save.isDisabled(), 'nothing to save yet')
  await verify.fill('7')
  await verify.blur()
  await save.click()
  await page.locator('.el-message--success').waitFor()
  const policy = await page.evaluate(() => fetch('/api/v1/settings/ticket-policy').then((r) => r.json()))
  assert.equal(policy.verify_days, 7)
  await card.scrollIntoViewIfNeeded()
  await shot(page, 'ticket-policy')
})

test('a department appeals a complaint; the office upholds it and the stage starts again', async () => {
  // A complaint through the JSON twin of the form, about a window of 登记注册科.
  const head = await newPage(browser, server.url)
  await login(head, 'sj_head')
  await head.waitForURL(server.url + '/')
  const window = await head.evaluate(async () => {
    const r = await fetch('/api/v1/windows?page_size=200&status=active')
    return (await r.json()).items.find((w) => w.department_name === '登记注册科')
  })
  const filed = await fetch(`${server.url}/api/v1/public/rating-pages/w${window.id}/complaints`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ content: '窗口下午三点就不受理了，说系统维护' }),
  })
  assert.equal(filed.status, 201)
  const { number } = await filed.json()

  await head.goto('/service/tickets')
  await head.locator('[data-test="tickets-table"] .el-table__row', { hasText: number }).click()
  const drawer = head.locator('[data-test="ticket-drawer"]')
  await drawer.locator('[data-test="ticket-appeal-open"]').click()
  await drawer.locator('textarea[data-test="ticket-text-appeal"]').fill('当日系统升级已提前公告，非窗口人员责任')
  await drawer.locator('[data-test="ticket-submit-appeal"]').click()
  await drawer.locator('[data-test="ticket-state"]', { hasText: '申诉中' }).waitFor()
  assert.equal(await drawer.locator('[data-test^="ticket-action-"]').count(), 0, 'the office decides')
  assert.match(await drawer.innerText(), /待效能办裁决/)
  const id = Number(new URL(head.url()).searchParams.get('id'))

  // The office, from the notification's link, upholds it: the reason is required.
  const office = await newPage(browser, server.url)
  await login(office, 'xnb_admin')
  await office.waitForURL(server.url + '/')
  await office.goto(`/service/tickets?id=${id}`)
  const panel = office.locator('[data-test="ticket-drawer"]')
  await panel.locator('[data-test="ticket-action-overturn"]').waitFor()
  await panel.locator('[data-test="ticket-submit-uphold"]').click()
  await panel.locator('[data-test="ticket-action-uphold"] .el-form-item__error').waitFor()
  await office.waitForTimeout(400) // the drawer slides in
  await shot(office, 'ticket-appeal-office')
  await panel.locator('textarea[data-test="ticket-text-uphold"]').fill('公告未在窗口张贴，群众无从知晓')
  await panel.locator('[data-test="ticket-submit-uphold"]').click()
  await panel.locator('[data-test="ticket-state"]', { hasText: '待核实' }).waitFor()
  assert.match(await panel.locator('[data-test="ticket-work"]').innerText(), /申诉理由[\s\S]*提前公告[\s\S]*裁决理由[\s\S]*无从知晓/)

  // Back with the department, which may verify but not appeal again.
  await head.reload()
  await drawer.locator('[data-test="ticket-action-verify"]').waitFor()
  assert.equal(await drawer.locator('[data-test="ticket-appeal-open"]').count(), 0, 'one appeal only')
})

/** Ratings for the demo city's recent cases, through their receipts' codes (the office looks the
 * codes up); one in six is 不满意. A case the demo city has rated already is refused and skipped. */
async function rateCases(office, base, n) {
  const codes = await office.evaluate(async (n) => {
    const cases = (await (await fetch(`/api/v1/service-cases?page_size=${n}`)).json()).items.filter((c) => c.window_id != null)
    const out = []
    for (const c of cases) {
      const r = await (await fetch(`/api/v1/rating-codes?case_id=${c.id}`)).json()
      out.push(r.codes[0].url.split('/r/')[1])
    }
    return out
  }, n)
  for (const [i, code] of codes.entries()) {
    const body = i % 6 === 5 ? { level: 'dissatisfied', reasons: ['long_wait'] } : { level: i % 2 ? 'satisfied' : 'very_satisfied' }
    await fetch(`${base}/api/v1/public/rating-pages/${code}/ratings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  }
}

/** The previous month of `YYYY-MM`. */
function monthBefore(m) {
  const [y, mo] = m.split('-').map(Number)
  return mo === 1 ? `${y - 1}-12` : `${y}-${String(mo - 1).padStart(2, '0')}`
}

test('the office ranks the month’s windows and departments, and publishes only a month that is over', async () => {
  const office = await newPage(browser, server.url)
  await login(office, 'xnb_admin')
  await office.waitForURL(server.url + '/')
  await rateCases(office, server.url, 24)

  await office.goto('/service/measures')
  const table = office.locator('[data-test="measures-table"]')
  const rows = table.locator('.el-table__body-wrapper .el-table__row')
  await rows.first().waitFor()
  const first = await rows.first().innerText()
  assert.match(first, /^1\s/, 'the best window is ranked first')
  assert.match(first, /\d+\.\d%[\s\S]*下限 \d+\.\d%/, 'the satisfaction rate with its lower bound in small print')
  assert.match(await office.locator('[data-test="measures-hint"]').innerText(), /置信区间的下限/)
  await office.locator('[data-test="measures-chart"] canvas').waitFor()
  await office.waitForTimeout(800) // the bars grow
  await shot(office, 'measures-office-windows')

  await office.locator('[data-test="measures-group-department"]').click()
  await table.locator('.el-table__header', { hasText: '部门' }).waitFor()
  await rows.filter({ hasText: /登记注册科|市不动产登记中心|市住房公积金管理中心/ }).first().waitFor()
  assert.ok((await rows.count()) >= 5, 'the window departments are listed')

  // This month is not over: the server refuses, and says why.
  const card = office.locator('[data-test="measures-publish"]')
  const month = (await card.locator('[data-test="measures-publish-button"]').innerText()).match(/\d{4}-\d{2}/)[0]
  await card.locator('[data-test="measures-publish-button"]').click()
  await office.locator('.el-message-box__btns .el-button--primary').click()
  await card.locator('[data-test="measures-publish-error"]', { hasText: '月份结束后才能发布该月排名' }).waitFor()
  await card.scrollIntoViewIfNeeded()
  await shot(office, 'measures-publish-refused')

  // Last month is over: published once, listed with its public page; a second time is refused.
  const last = monthBefore(month)
  const picker = office.locator('.toolbar .el-date-editor input')
  await picker.fill(last)
  await picker.press('Enter')
  await card.locator('[data-test="measures-publish-button"]', { hasText: last }).waitFor()
  await card.locator('[data-test="measures-publish-button"]').click()
  await office.locator('.el-message-box__btns .el-button--primary').click()
  await card.locator(`[data-test="measures-published"] a[href="/public/rankings/${last}"]`).waitFor()
  assert.equal(await card.locator('[data-test="measures-publish-error"]').count(), 0)
  await card.locator('[data-test="measures-publish-button"]').click()
  await office.locator('.el-message-box__btns .el-button--primary').click()
  await card.locator('[data-test="measures-publish-error"]', { hasText: '排名已发布' }).waitFor()
  const page = await fetch(`${server.url}/public/rankings/${last}`)
  assert.equal(page.status, 200, 'the public page of the published month')

  // On a phone: one card per window.
  const phone = await newPage(browser, server.url, { phone: true })
  await login(phone, 'xnb_admin')
  await phone.waitForURL(server.url + '/')
  await phone.goto('/service/measures')
  await phone.locator('[data-test="measures-cards"] .card').first().waitFor()
  assert.equal(await phone.locator('[data-test="measures-table"]').count(), 0)
  assert.match(await phone.locator('[data-test="measures-cards"] .card').first().innerText(), /^1\s[\s\S]*好评率[\s\S]*\d+\.\d%/)
  await phone.waitForTimeout(800)
  await shot(phone, 'measures-office-phone')
})

test('a department head sees only their department’s windows; a staff member their own figures', async () => {
  const head = await newPage(browser, server.url)
  await login(head, 'sj_head')
  await head.waitForURL(server.url + '/')
  await head.goto('/service/measures')
  const rows = head.locator('[data-test="measures-table"] .el-table__body-wrapper .el-table__row')
  await rows.first().waitFor()
  const names = await head.locator('[data-test="measures-table"] .el-table__body-wrapper .el-table__row td:nth-child(2)').allInnerTexts()
  assert.ok(names.length >= 1 && names.every((n) => /^A0\d /.test(n.trim())), `登记注册科’s windows only: ${names}`)
  assert.equal(await head.locator('[data-test="measures-publish"]').count(), 0, 'a head does not publish')
  await head.waitForTimeout(800)
  await shot(head, 'measures-head')

  const staff = await newPage(browser, server.url, { phone: true })
  await login(staff, 'sj_staff')
  await staff.waitForURL(server.url + '/')
  await staff.goto('/service/measures')
  await staff.locator('[data-test="measures-mine"]').waitFor()
  assert.match(await staff.locator('[data-test="measures-mine"]').innerText(), /我的评价[\s\S]*评价数[\s\S]*好评率/)
  assert.equal(await staff.locator('[data-test="measures-group"]').count(), 0, 'no ranking to switch')
  await shot(staff, 'measures-staff-phone')
})
