// Evidence files end to end: the office sets the rules; the inspector records a finding on a phone
// and attaches a photo, a document and a video (one of them through a dropped network), and sees
// a too-large and a wrong-type file refused with the server's reasons; the office opens the finding
// and sees each file with the SHA-256 Node computes for it; the department's head appeals with
// reasons and a file of their own.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { deflateSync } from 'node:zlib'
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

// ---- small real files, made here ----------------------------------------------------------------
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function crc32(buf) {
  let c = 0xffffffff
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
function chunk(type, data) {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}
/** A valid 8×8 PNG of one colour, optionally padded after its end (to make it large). */
function png([r, g, b], padding = 0) {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(8, 0)
  ihdr.writeUInt32BE(8, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // truecolour
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: 8 }, () => [r, g, b]).flat())])
  const raw = Buffer.concat(Array.from({ length: 8 }, () => row))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
    Buffer.alloc(padding),
  ])
}
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
)
/** The start of an MP4 (an ftyp box): what tells a file's type is its first bytes. */
const MP4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom', 'ascii'), Buffer.from([0, 0, 2, 0]), Buffer.from('isomiso2', 'ascii'), Buffer.alloc(2048)])
const sha256 = (b) => createHash('sha256').update(b).digest('hex')

const PHOTO = { name: '窗口现场.png', mimeType: 'image/png', buffer: png([200, 40, 40]) }
const DOC = { name: '签到表.pdf', mimeType: 'application/pdf', buffer: PDF }
const VIDEO = { name: 'VID_20261103_0930.mp4', mimeType: 'video/mp4', buffer: MP4 }
const OFFLINE = { name: '断网后.png', mimeType: 'image/png', buffer: png([40, 120, 200]) }
const BIG = { name: '太大了.png', mimeType: 'image/png', buffer: png([0, 0, 0], 1536 * 1024) }
const TEXT = { name: '假装是照片.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('just some text, not a photo at all\n'.repeat(20)) }
const APPEAL = { name: '排班表.png', mimeType: 'image/png', buffer: png([30, 160, 60]) }

/** A day counted from today in the city's time zone, as YYYY-MM-DD. */
function cityDay(offset = 0) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(Date.now() + offset * 86_400_000))
}

async function phonePage(base) {
  const page = await newPage(browser, base, { phone: true })
  await page.setViewportSize({ width: 375, height: 812 })
  return page
}

function row(page, name) {
  return page.locator('[data-test="upload-row"]', { hasText: name })
}

let planId, visitId, findingId

test('the office limits evidence files to 1 MB of video, photos and documents', async () => {
  const page = await newPage(browser, server.url)
  await login(page, 'xnb_admin')
  await page.waitForURL(server.url + '/')

  // A plan with the inspector on the team and a visit to 市市场监督管理局 today (through the API:
  // planning is tested in inspections.test.mjs).
  const inspector = (await (await page.request.get('/api/v1/inspectors')).json()).find((m) => m.display_name === '暗访人员')
  const sj = (await (await page.request.get('/api/v1/departments/tree')).json()).find((d) => d.code === 'SJ')
  const plan = await page.request.post('/api/v1/plans', {
    data: { title: '证据端到端计划', period_start: cityDay(-7), period_end: cityDay(7), status: 'active', notes: '', targets: [{ department_id: sj.id, window_id: null }], team: [inspector.user_id] },
  })
  assert.ok(plan.ok(), await plan.text())
  planId = (await plan.json()).id
  const visit = await page.request.post(`/api/v1/plans/${planId}/visits`, { data: { department_id: sj.id, scheduled_on: cityDay(0), notes: '' } })
  assert.ok(visit.ok(), await visit.text())
  visitId = (await visit.json()).id

  await page.goto('/inspections/policy')
  const form = page.locator('[data-test="inspection-policy-form"]')
  await form.waitFor()
  // The rules page is in the menu of the inspections group.
  assert.equal(await page.locator('.el-menu-item', { hasText: '暗访规则' }).count() > 0, true)
  // Nothing accepted at all is not a rule the form lets through.
  for (const k of ['video', 'photo', 'audio', 'document']) {
    const box = page.locator(`[data-test="policy-kind-${k}"]`)
    if (await box.locator('input').isChecked()) await box.click()
  }
  await page.click('[data-test="inspection-policy-save"]')
  await form.locator('.el-form-item__error', { hasText: '请至少选择一种文件类型' }).waitFor()
  await shot(page, 'evidence-policy-invalid')
  for (const k of ['video', 'photo', 'document']) await page.locator(`[data-test="policy-kind-${k}"]`).click()
  await page.fill('#policy-max-mb', '1')
  await page.press('#policy-max-mb', 'Tab')
  await page.click('[data-test="inspection-policy-save"]')
  await page.locator('.el-message--success').waitFor()
  const saved = await (await page.request.get('/api/v1/settings/inspection-policy')).json()
  assert.equal(saved.evidence_max_mb, 1)
  assert.deepEqual([...saved.evidence_kinds].sort(), ['document', 'photo', 'video'])
  await shot(page, 'evidence-policy')
})

test('the inspector records a finding on a phone and uploads its evidence', async () => {
  const page = await phonePage(server.url)
  await login(page, 'inspector')
  await page.waitForURL(server.url + '/')
  await page.goto(`/inspections/record?plan=${planId}&visit=${visitId}`)
  await page.locator('[data-test="record-form"]').waitFor()
  await page.locator('[data-test="record-category-GAMING"]').click()
  await page.fill('#record-description', '证据端到端：窗口人员玩手机，群众等候。')
  await page.click('[data-test="record-submit"]')
  const success = page.locator('[data-test="record-success"]')
  await success.waitFor()
  findingId = Number(/#(\d+)/.exec(await success.innerText())[1])
  const attach = page.locator('[data-test="record-attach"]')
  // The office's rules are shown before a file is picked: 1 MB, and no audio.
  await attach.locator('.hint', { hasText: '1 MB' }).waitFor()
  assert.doesNotMatch(await attach.locator('.hint').innerText(), /录音/)
  await shot(page, 'evidence-record-attach')

  // Two files at once from the file picker, and a video from the camera button.
  await attach.locator('[data-test="evidence-input-file"]').setInputFiles([PHOTO, DOC])
  await attach.locator('[data-test="evidence-input-video"]').setInputFiles(VIDEO)
  for (const f of [PHOTO, DOC, VIDEO]) {
    await row(page, f.name).and(page.locator('[data-state="done"]')).waitFor()
    const digest = row(page, f.name).locator('[data-test="upload-sha256"]')
    assert.equal(await digest.getAttribute('data-sha256'), sha256(f.buffer), `${f.name}: the server's SHA-256 is the file's`)
    const short = sha256(f.buffer)
    assert.match(await digest.innerText(), new RegExp(`${short.slice(0, 8)}…${short.slice(-8)}`))
  }
  await shot(page, 'evidence-record-uploaded')

  // The network drops as a photo is picked: the row says so, and it goes up once it is back.
  await page.context().setOffline(true)
  await attach.locator('[data-test="evidence-input-photo"]').setInputFiles(OFFLINE)
  await row(page, OFFLINE.name).and(page.locator('[data-state="retrying"]')).waitFor()
  assert.match(await row(page, OFFLINE.name).innerText(), /网络中断，正在重试…/)
  await row(page, OFFLINE.name).scrollIntoViewIfNeeded()
  await shot(page, 'evidence-record-offline')
  await page.context().setOffline(false)
  await row(page, OFFLINE.name).and(page.locator('[data-state="done"]')).waitFor()
  assert.equal(await row(page, OFFLINE.name).locator('[data-test="upload-sha256"]').getAttribute('data-sha256'), sha256(OFFLINE.buffer))

  // Too large for the office's 1 MB: refused with the server's own words.
  const refusal = await page.request.post(`/api/v1/findings/${findingId}/uploads`, {
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Length': String(BIG.buffer.length),
      'Upload-Metadata': `filename ${Buffer.from(BIG.name).toString('base64')},purpose ${Buffer.from('evidence').toString('base64')}`,
      'Accept-Language': 'zh-CN',
    },
  })
  assert.equal(refusal.status(), 413)
  const tooLarge = (await refusal.json()).message
  await attach.locator('[data-test="evidence-input-file"]').setInputFiles(BIG)
  await row(page, BIG.name).and(page.locator('[data-state="failed"]')).waitFor()
  assert.equal((await row(page, BIG.name).locator('[data-test="upload-status"]').innerText()).trim(), tooLarge)

  // Text named .jpg is not a photo: the server looks at the content.
  await attach.locator('[data-test="evidence-input-file"]').setInputFiles(TEXT)
  await row(page, TEXT.name).and(page.locator('[data-state="failed"]')).waitFor()
  const wrongType = (await row(page, TEXT.name).locator('[data-test="upload-status"]').innerText()).trim()
  assert.ok(wrongType && !/上传失败，请重试/.test(wrongType), `the server's reason is shown: ${wrongType}`)
  assert.equal(await row(page, TEXT.name).locator('[data-test="upload-retry"]').count(), 0, 'a refused file is not offered again')

  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 380, `the page is ${width}px wide at 375px`)
  await row(page, TEXT.name).scrollIntoViewIfNeeded()
  await shot(page, 'evidence-record-refused')
})

test('the office sees each file with the SHA-256 of what was sent', async () => {
  assert.ok(findingId, 'a finding was recorded')
  const page = await newPage(browser, server.url)
  await login(page, 'xnb_admin')
  await page.waitForURL(server.url + '/')
  await page.goto('/inspections/findings')
  await page.locator(`[data-test="findings-open-${findingId}"]`).click()
  const section = page.locator('[data-test="findings-detail"] [data-test="findings-evidence"]')
  await section.locator('[data-test="evidence-sha256"]').first().waitFor()
  const shown = await section.locator('[data-test="evidence-sha256"]').allInnerTexts()
  assert.deepEqual(shown.map((s) => s.trim()).sort(), [PHOTO, DOC, VIDEO, OFFLINE].map((f) => sha256(f.buffer)).sort())
  assert.equal(await section.locator('[data-test="evidence-sm3"]').count(), 4)

  // Each kind in its own player: the photo as an image, the video with seekable controls.
  const photo = section.locator('[data-kind="photo"]', { hasText: PHOTO.name })
  await photo.locator('img').waitFor()
  const video = section.locator('[data-kind="video"] video')
  assert.equal(await video.getAttribute('preload'), 'metadata')
  assert.notEqual(await video.getAttribute('playsinline'), null)
  const doc = section.locator('[data-kind="document"]', { hasText: DOC.name })
  const href = await doc.locator('[data-test="evidence-download"]').getAttribute('href')
  assert.match(href, /download=true/)
  const body = await (await page.request.get(href)).body()
  assert.equal(sha256(body), sha256(DOC.buffer), 'the download is the file as sent')
  // The office may still add evidence to a draft.
  await section.locator('[data-test="evidence-uploader-evidence"]').waitFor()
  await shot(page, 'evidence-office-detail')

  // A photo opens full size.
  await photo.locator('img').click()
  await page.locator('.el-image-viewer__wrapper').waitFor()
  await shot(page, 'evidence-office-photo')
  await page.keyboard.press('Escape')

  // Confirmed and notified (the review itself is tested in inspections.test.mjs).
  for (const action of ['confirm', 'notify']) {
    const r = await page.request.post(`/api/v1/findings/${findingId}/steps`, { data: { action } })
    assert.ok(r.ok(), await r.text())
  }
})

test('the department head appeals with reasons, then a file', async () => {
  const page = await phonePage(server.url)
  await login(page, 'sj_head')
  await page.waitForURL(server.url + '/')
  await page.goto('/inspections/findings')
  await page.locator(`[data-test="findings-open-${findingId}"]`).click()
  const drawer = page.locator('[data-test="findings-detail"]')
  const appeal = drawer.locator('[data-test="findings-appeal"]')
  await appeal.waitFor()
  const detail = await (await page.request.get(`/api/v1/findings/${findingId}`)).json()
  assert.ok(detail.appeal_deadline, 'a notified finding has a deadline')
  assert.match(await appeal.locator('[data-test="findings-appeal-deadline"]').innerText(), new RegExp(detail.appeal_deadline))
  // The department sees the evidence, but not who uploaded it.
  assert.equal(await drawer.locator('[data-test="findings-evidence"] [data-test="evidence-sha256"]').count(), 4)
  assert.doesNotMatch(await drawer.locator('[data-test="findings-evidence"]').innerText(), /上传人/)
  await appeal.locator('[data-test="findings-appeal-open"]').click()
  await appeal.locator('[data-test="appeal-submit"]').click()
  await appeal.locator('.el-form-item__error', { hasText: '请填写申诉理由' }).waitFor()
  await appeal.locator('#appeal-reason').fill('当时该工作人员正在用手机核对群众提交的电子证照，并非玩游戏。')
  await shot(page, 'evidence-appeal-form')
  await appeal.locator('[data-test="appeal-submit"]').click()
  await drawer.locator('[data-test="findings-detail-state"]', { hasText: '申诉中' }).waitFor()
  const files = appeal.locator('[data-test="findings-appeal-files"]')
  await files.waitFor()
  await files.locator('[data-test="evidence-input-file"]').setInputFiles(APPEAL)
  await appeal.locator('[data-test="evidence-sha256"]', { hasText: sha256(APPEAL.buffer) }).waitFor()
  const width = await page.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= 380, `the page is ${width}px wide at 375px`)
  await shot(page, 'evidence-appeal-done')

  // The office sees the appeal's file apart from the evidence, and may decide.
  const office = await newPage(browser, server.url)
  await login(office, 'xnb_admin')
  await office.waitForURL(server.url + '/')
  await office.goto('/inspections/findings')
  // The office's queue opens on drafts; appeals are a state of their own.
  await office.locator('[data-test="findings-state"]').click()
  await office.locator('.el-select-dropdown__item:visible', { hasText: '申诉中' }).click()
  await office.locator(`[data-test="findings-open-${findingId}"]`).click()
  const officeAppeal = office.locator('[data-test="findings-detail"] [data-test="findings-appeal"]')
  await officeAppeal.locator('[data-test="evidence-sha256"]', { hasText: sha256(APPEAL.buffer) }).waitFor()
  assert.match(await officeAppeal.innerText(), /电子证照/)
  await office.locator('[data-test="findings-uphold"]').waitFor()
  await officeAppeal.scrollIntoViewIfNeeded()
  await shot(office, 'evidence-office-appeal')
})
