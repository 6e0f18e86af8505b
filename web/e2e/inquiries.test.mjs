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

/** A page 390 px wide, as a common phone is. */
async function phonePage() {
  const page = await newPage(browser, server.url, { phone: true })
  await page.setViewportSize({ width: 390, height: 844 })
  return page
}

/** Searches the receiver select inside `within` and picks the option named `name`. */
async function pickReceiver(page, within, query, name) {
  await within.locator('[data-test="inquiry-receiver"]').click()
  await page.keyboard.type(query)
  await page.locator('.el-select-dropdown__item:visible', { hasText: name }).first().click()
}

test('a staff member records an inquiry and hands it to the police; its head takes it up and answers, and the chain shows each link', async () => {
  // sj_staff, of the market regulator, is asked about something the police deal with.
  const staff = await newPage(browser, server.url)
  await login(staff, 'sj_staff')
  await staff.waitForURL(server.url + '/')
  await staff.locator('.el-menu-item', { hasText: '首问负责' }).first().click()
  await staff.waitForURL(server.url + '/inquiries')
  await staff.locator('[data-test="inquiries-table"]').waitFor()
  assert.ok(await staff.locator('#tab-mine.is-active').isVisible(), 'the page opens on what waits for the staff member')

  await staff.click('[data-test="inquiries-record"]')
  const dialog = staff.locator('[data-test="inquiry-record"]')
  await dialog.locator('[data-test="inquiry-channel-counter"]').waitFor()
  await dialog.locator('[data-test="inquiry-channel-phone"]').click()
  await staff.fill('#inquiry-asker', '王先生')
  await staff.fill('#inquiry-phone', '13812345678')
  await staff.fill('#inquiry-content', '孩子在外地出生，回本市落户需要准备哪些材料，去哪里办')
  await dialog.locator('[data-test="inquiry-then-hand_over"]').click()
  // Without a receiver the server refuses it next to the field.
  await staff.fill('#inquiry-record-text', '户籍业务，请公安局答复群众')
  await dialog.locator('[data-test="inquiry-record-save"]').click()
  await dialog.locator('.el-form-item__error', { hasText: '请选择转交的人员或部门' }).waitFor()
  await pickReceiver(staff, dialog, '公安', '市公安局')
  await staff.locator('.el-select-dropdown:visible').waitFor({ state: 'hidden' })
  await shot(staff, 'inquiry-record-hand-over')
  await dialog.locator('[data-test="inquiry-record-save"]').click()
  await staff.locator('.el-message--success', { hasText: '已登记首问咨询' }).waitFor()

  // The inquiry just recorded opens: waiting at the police for anyone there to take it up.
  await staff.waitForURL(/\/inquiries\?.*id=\d+/)
  const id = Number(new URL(staff.url()).searchParams.get('id'))
  const drawer = staff.locator('[data-test="inquiry-drawer"]')
  await drawer.locator('[data-test="inquiry-state"]', { hasText: '待接收' }).waitFor()
  const number = (await drawer.locator('.el-drawer__title').innerText()).match(/SW-\d{4}-\d{6}/)[0]
  assert.equal(await drawer.locator('[data-test="inquiry-holder"]').innerText(), '市公安局')
  assert.equal(await drawer.locator('[data-test="inquiry-phone"]').innerText(), '138****5678', 'the phone is masked')
  assert.equal(await drawer.locator('[data-test^="inquiry-action-"]').count(), 0, 'nothing for the staff member to do now')
  assert.match(await drawer.locator('[data-test="inquiry-chain"]').innerText(), /首问登记[\s\S]*转交[\s\S]*转交给 市公安局[\s\S]*户籍业务/)
  await staff.waitForTimeout(400) // the drawer slides in
  await shot(staff, 'inquiry-handed-over')

  // It is on the shelf of what the staff member was asked first.
  await drawer.locator('.el-drawer__close-btn').click()
  await staff.click('#tab-asked')
  await staff.locator(`[data-test="inquiries-state-${id}"]`, { hasText: '待接收' }).waitFor()
  await staff.waitForTimeout(400) // the tab's underline slides over
  await shot(staff, 'inquiries-asked')

  // The police chief finds it in the inbox and among what waits for them.
  const head = await newPage(browser, server.url)
  await login(head, 'ga_head')
  await head.waitForURL(server.url + '/')
  await head.goto('/inbox')
  const task = head.locator('[data-test="inbox-task"]', { hasText: number })
  await task.waitFor()
  assert.match(await task.innerText(), /首问咨询[\s\S]*接收首问咨询/)
  await head.goto('/inquiries')
  const row = head.locator('[data-test="inquiries-table"] .el-table__body-wrapper .el-table__row', { hasText: number })
  await row.waitFor()
  assert.match(await row.innerText(), /电话[\s\S]*落户[\s\S]*市市场监督管理局[\s\S]*市公安局[\s\S]*待接收/)
  await shot(head, 'inquiries-head-mine')
  await row.click()
  const panel = head.locator('[data-test="inquiry-drawer"]')
  await panel.locator('[data-test="inquiry-action-accept"]').waitFor()
  assert.equal(await panel.locator('[data-test="inquiry-action-answer"]').count(), 0, 'only the steps allowed now')
  assert.equal(await panel.locator('[data-test="inquiry-refuse-open"]').count(), 1, 'refusing is offered apart')
  await panel.locator('[data-test="inquiry-submit-accept"]').click()
  await panel.locator('[data-test="inquiry-state"]', { hasText: '办理中' }).waitFor()
  assert.match(await panel.locator('[data-test="inquiry-holder"]').innerText(), /^\S+（市公安局）$/, 'now with the one who took it up')

  // The full number, on purpose, to call them back; then the answer, required.
  await panel.locator('[data-test="inquiry-reveal"]').click()
  await panel.locator('[data-test="inquiry-phone"]', { hasText: '13812345678' }).waitFor()
  await panel.locator('[data-test="inquiry-submit-answer"]').click()
  await panel.locator('[data-test="inquiry-action-answer"] .el-form-item__error', { hasText: '请填写答复内容' }).waitFor()
  await panel.locator('textarea[data-test="inquiry-text-answer"]').fill('已电话告知：携出生医学证明、父母户口簿和身份证到户籍所在地派出所办理')
  await panel.locator('[data-test="inquiry-submit-answer"]').click()
  await panel.locator('[data-test="inquiry-state"]', { hasText: '已答复' }).waitFor()
  assert.equal(await panel.locator('[data-test^="inquiry-action-"]').count(), 0, 'nothing is left to do')
  assert.match(await panel.locator('[data-test="inquiry-answer"]').innerText(), /出生医学证明/)
  const chain = await panel.locator('[data-test="inquiry-chain"]').innerText()
  assert.match(chain, /首问登记[\s\S]*首问人：\S+（市市场监督管理局）[\s\S]*转交[\s\S]*转交给 市公安局[\s\S]*接收办理[\s\S]*接收人：\S+（市公安局）[\s\S]*答复[\s\S]*答复人：\S+（市公安局）[\s\S]*出生医学证明/, `each link: ${chain}`)
  await head.waitForTimeout(400)
  await shot(head, 'inquiry-answered')

  // On the staff member's phone, 390 px wide: the card says it is answered, the chain is whole.
  const mobile = await phonePage()
  await login(mobile, 'sj_staff')
  await mobile.waitForURL(server.url + '/')
  await mobile.goto('/inquiries?shelf=asked')
  const card = mobile.locator(`[data-test="inquiries-row-${id}"]`)
  await card.waitFor()
  assert.match(await card.innerText(), /已答复[\s\S]*落户/)
  assert.equal(await mobile.locator('[data-test="inquiries-table"]').count(), 0, 'cards, not a table, on a phone')
  const width = await mobile.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 390, `nothing wider than the phone: ${width}`)
  await shot(mobile, 'inquiries-staff-phone-390')
  await card.click()
  const sheet = mobile.locator('[data-test="inquiry-drawer"]')
  await sheet.locator('[data-test="inquiry-state"]', { hasText: '已答复' }).waitFor()
  assert.match(await sheet.locator('[data-test="inquiry-chain"]').innerText(), /首问登记[\s\S]*转交[\s\S]*接收办理[\s\S]*答复/)
  await mobile.waitForTimeout(400)
  await shot(mobile, 'inquiry-drawer-phone-390')

  await mobile.goto('/inquiries')
  await mobile.click('[data-test="inquiries-record"]')
  await mobile.locator('[data-test="inquiry-record"] [data-test="inquiry-then-answer"]').waitFor()
  await mobile.waitForTimeout(300)
  await shot(mobile, 'inquiry-record-phone-390')
})

test('the office reviews lapses: one dismissed with a reason, one made a finding that opens under Findings', async () => {
  // Two inquiries handed to the police and refused there: each a lapse for the office.
  const staff = await newPage(browser, server.url)
  await login(staff, 'sj_staff')
  await staff.waitForURL(server.url + '/')
  const numbers = await staff.evaluate(async () => {
    const post = (url, body) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json())
    const police = (await (await fetch('/api/v1/inquiry-receivers?q=' + encodeURIComponent('市公安局'))).json()).find((o) => o.label === '市公安局' && o.person_id == null)
    const out = []
    for (const content of ['营业执照地址变更后，车辆行驶证地址要不要改', '个体户被冒名注册了怎么报案']) {
      const d = await post('/api/v1/inquiries', { channel: 'counter', content, then: 'hand_over', text: '涉及公安业务，请接收答复', to: { department_id: police.department_id } })
      out.push({ id: d.id, number: d.number })
    }
    return out
  })
  assert.equal(numbers.length, 2)
  const head = await newPage(browser, server.url)
  await login(head, 'ga_head')
  await head.waitForURL(server.url + '/')
  const refused = await head.evaluate(async (ids) => {
    const out = []
    for (const id of ids) {
      const r = await fetch(`/api/v1/inquiries/${id}/steps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ action: 'refuse', text: '不属于本局职责' }) })
      out.push(r.status)
    }
    return out
  }, numbers.map((n) => n.id))
  assert.deepEqual(refused, [200, 200])

  // The office: an account not linked to a staff member reads every inquiry but cannot record one.
  const office = await newPage(browser, server.url)
  await login(office, 'xnb_admin')
  await office.waitForURL(server.url + '/')
  await office.goto('/inquiries')
  await office.locator('#tab-all.is-active').waitFor()
  await office.locator('[data-test="inquiries-table"] .el-table__row', { hasText: numbers[0].number }).waitFor()
  await office.click('[data-test="inquiries-record"]')
  await office.fill('#inquiry-content', '咨询公积金提取')
  await office.fill('#inquiry-record-text', '已当场答复')
  await office.locator('[data-test="inquiry-record-save"]').click()
  await office.locator('.el-message--error', { hasText: '未关联在职工作人员' }).waitFor()
  await office.keyboard.press('Escape')

  // The review queue loads; if there are pending lapses (the demo's and the two above), one is
  // dismissed with a reason.
  await office.goto('/inquiries/lapses')
  const table = office.locator('[data-test="lapses-table"]')
  await table.waitFor()
  await office.locator('[data-test="inquiry-policy"]').waitFor()
  assert.equal(await office.locator('input#inquiry-policy-accept_days').inputValue(), '1')
  const rows = table.locator('.el-table__body-wrapper .el-table__row')
  await rows.first().waitFor({ timeout: 5_000 }).catch(() => undefined)
  await shot(office, 'inquiry-lapses')
  if ((await rows.count()) > 0) {
    const dismissRow = rows.first()
    const dismissed = (await dismissRow.innerText()).match(/SW-\d{4}-\d{6}/)[0]
    await dismissRow.locator('[data-test^="lapses-review-"]').click()
    const form = office.locator('[data-test="lapses-review"]')
    await form.waitFor()
    await form.locator('[data-test="lapses-decision-dismiss"]').click()
    await office.locator('[data-test="lapses-send"]').click()
    await form.locator('.el-form-item__error', { hasText: '请填写审查意见' }).waitFor()
    await form.locator('textarea[data-test="lapses-reason"]').fill('经核实，该事项确不属于公安局职责，退回理由成立')
    await office.waitForTimeout(300)
    await shot(office, 'inquiry-lapse-dismiss')
    await office.locator('[data-test="lapses-send"]').click()
    await office.locator('.el-message--success', { hasText: '线索已不予认定' }).waitFor()
    await office.click('#tab-dismissed')
    await office.locator('#tab-dismissed.is-active').waitFor()
    // Until the tab's own rows arrive, the pending tab's row of the same number may still show.
    const done = table.locator('.el-table__body-wrapper .el-table__row', { hasText: dismissed }).filter({ hasText: '不予认定' }).first()
    await done.waitFor()
    assert.match(await done.innerText(), /不予认定[\s\S]*退回理由成立/)
    await office.click('#tab-pending')
  }

  // The other refusal is made a finding in the rule's category, which opens under Findings.
  const row = rows.filter({ hasText: numbers[1].number })
  await row.waitFor()
  assert.match(await row.innerText(), /拒收推诿[\s\S]*市公安局[\s\S]*冒名注册/)
  await row.locator('[data-test^="lapses-inquiry-"]').click()
  const drawer = office.locator('[data-test="inquiry-drawer"]')
  await drawer.locator('[data-test="inquiry-chain"]', { hasText: '拒收退回' }).waitFor()
  assert.match(await drawer.locator('[data-test="inquiry-chain"]').innerText(), /转交给 市公安局[\s\S]*拒收退回[\s\S]*不属于本局职责/)
  assert.match(await drawer.locator('[data-test="inquiry-lapses"]').innerText(), /拒收推诿[\s\S]*待审查/)
  await office.waitForTimeout(400)
  await shot(office, 'inquiry-lapse-chain')
  await drawer.locator('.el-drawer__close-btn').click()
  await drawer.locator('.el-drawer').waitFor({ state: 'hidden' })

  await row.locator('[data-test^="lapses-review-"]').click()
  const form = office.locator('[data-test="lapses-review"]')
  await form.waitFor()
  assert.match(await form.locator('[data-test="lapses-category"]').innerText(), /违反首问负责/, 'the rule’s category is picked')
  await form.locator('textarea[data-test="lapses-reason"]').fill('接收部门未核实即拒收，属推诿')
  await office.locator('[data-test="lapses-send"]').click()
  const made = office.locator('[data-test="lapses-made"]')
  await made.waitFor()
  await office.waitForTimeout(300)
  await shot(office, 'inquiry-lapse-finding')
  await made.locator('[data-test="lapses-made-finding"]').click()
  await office.waitForURL(/\/inspections\/findings\?id=\d+/)
  const finding = office.locator('[data-test="findings-detail"]')
  await finding.locator('[data-test="findings-detail-state"]', { hasText: '草稿' }).waitFor()
  assert.match(await finding.innerText(), /违反首问负责/)
  await office.waitForTimeout(400)
  await shot(office, 'inquiry-lapse-finding-opened')
})
