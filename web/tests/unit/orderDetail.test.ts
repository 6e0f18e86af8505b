// The rectification order page against a stand-in server: the department drafts, adds files and
// submits its report; the office accepts or returns it with comments; every version stays in the
// history with the office's comments and the leaders' instructions.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, RouterView } from 'vue-router'
import { defineComponent, h } from 'vue'
import { i18n } from '@/locales'
import { useAuthStore } from '@/stores/auth'
import OrderDetailView from '@/views/rectification/OrderDetailView.vue'
import RectificationPolicyView from '@/views/rectification/RectificationPolicyView.vue'

const ui = vi.hoisted(() => ({ prompt: vi.fn(), confirm: vi.fn(), success: vi.fn(), error: vi.fn(), info: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => {
  const original = await importOriginal<typeof import('element-plus')>()
  return {
    ...original,
    ElMessageBox: { prompt: ui.prompt, confirm: ui.confirm },
    ElMessage: Object.assign(vi.fn(), { success: ui.success, error: ui.error, warning: vi.fn(), info: ui.info }),
  }
})

// ---- a stand-in server ---------------------------------------------------------------------------
interface Call {
  method: string
  path: string
  query: URLSearchParams
  body: any
  contentType: string | null
}
type Reply = [number, unknown]
let calls: Call[] = []
let handlers: ((c: Call) => Reply | undefined)[] = []

function on(method: string, path: string, reply: (c: Call) => Reply) {
  handlers.push((c) => (c.method === method && c.path === path ? reply(c) : undefined))
}

function serve() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (input: Request | string, init?: RequestInit) => {
      // The typed client sends Requests; file uploads and downloads send a URL and options.
      const req = typeof input === 'string' ? new Request(new URL(input, 'http://localhost'), init) : input
      const url = new URL(req.url)
      const contentType = req.headers.get('Content-Type')
      const json = contentType?.includes('json') ?? false
      const text = req.method === 'GET' || !json ? '' : await req.text()
      const c: Call = { method: req.method, path: url.pathname, query: url.searchParams, body: text ? JSON.parse(text) : undefined, contentType }
      calls.push(c)
      for (const handler of handlers) {
        const r = handler(c)
        if (r) return new Response(JSON.stringify(r[1]), { status: r[0], headers: { 'Content-Type': 'application/json' } })
      }
      return new Response(JSON.stringify({ code: 'not_found', message: '未找到：' + c.path, details: null }), { status: 404, headers: { 'Content-Type': 'application/json' } })
    }),
  )
}
const sent = (method: string, path: string) => calls.filter((c) => c.method === method && c.path === path)

// ---- an order and its reports ------------------------------------------------------------------------
function report(version: number, status: string, over: Record<string, unknown> = {}) {
  return {
    id: 100 + version,
    version,
    status,
    cause: `第${version}版原因`,
    measures: `第${version}版措施`,
    results: '',
    responsible: '',
    drafted_by_name: '联络员小王',
    updated_at: '2026-11-03T02:00:00Z',
    submitted_by_name: status === 'draft' ? null : '张局长',
    submitted_at: status === 'draft' ? null : '2026-11-04T02:00:00Z',
    reviewed_by_name: status === 'returned' || status === 'accepted' ? '效能办李科长' : null,
    reviewed_at: status === 'returned' || status === 'accepted' ? '2026-11-05T02:00:00Z' : null,
    review_comment: status === 'returned' ? '整改措施不具体，请补充时限和责任人' : '',
    attachments: [],
    instructions: [],
    can_instruct: status === 'submitted' || status === 'accepted',
    ...over,
  }
}

/** What the server would allow, in the page's old shorthand: draft, submit, review. */
const ACTIONS: Record<string, string[]> = { draft: ['draft_report'], submit: ['submit_report'], review: ['accept', 'return'] }

function order(status: string, reports: unknown[], can: string[], over: Record<string, unknown> = {}) {
  return {
    id: 5,
    bulletin_id: 3,
    bulletin_number: '效能通报〔2026〕1号',
    bulletin_title: '关于窗口服务问题的通报',
    department_id: 7,
    department_name: '市市场监督管理局',
    requirement: '请于期限内查明原因、落实整改并书面报告。',
    deadline: '2026-11-20',
    status,
    overdue: false,
    days_left: 4,
    finding_count: 1,
    issued_at: '2026-11-02T01:00:00Z',
    first_submitted_at: null,
    submitted_late: false,
    accepted_at: null,
    findings: [
      {
        id: 41,
        department_id: 7,
        department_name: '市市场监督管理局',
        window_name: '登记窗口',
        person_name: '赵某',
        category_name: '工作时间玩手机',
        severity: 'general',
        state: 'notified',
        occurred_at: '2026-10-28T02:30:00Z',
        description: '窗口人员上班时间玩手机游戏，群众等候十余分钟。',
      },
    ],
    reports,
    reminders: [{ deadline: '2026-11-20', point: 3, sent_at: '2026-11-17T01:00:00Z' }],
    allowed_actions: can.flatMap((c) => ACTIONS[c] ?? []),
    ...over,
  }
}

// ---- mounting ----------------------------------------------------------------------------------------
let pinia: Pinia
let mounted: VueWrapper[] = []

function signIn(permissions: string[]) {
  const auth = useAuthStore()
  auth.me = { id: 9, username: 'u', display_name: 'U', roles: [], permissions, scopes: {}, must_change_password: false } as never
  auth.checked = true
}

async function show() {
  const stub = { render: () => null }
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/rectification/:id(\\d+)', name: 'order', component: OrderDetailView },
      { path: '/rectification', name: 'orders', component: stub },
      { path: '/bulletins/:id(\\d+)', name: 'bulletin', component: stub },
    ],
  })
  await router.push('/rectification/5')
  await router.isReady()
  const root = defineComponent({ render: () => h(RouterView) })
  const w = mount(root, { attachTo: document.body, global: { plugins: [pinia, i18n, router] } })
  mounted.push(w)
  await flushPromises()
  return { w, router }
}

function $(selector: string): HTMLElement | null {
  return document.body.querySelector(selector)
}
function text(selector: string): string {
  return $(selector)?.textContent?.trim() ?? ''
}
async function click(selector: string) {
  const el = $(selector)
  if (!el) throw new Error('nothing matches ' + selector)
  el.click()
  await flushPromises()
}
async function type(selector: string, value: string) {
  const el = $(selector) as HTMLInputElement | HTMLTextAreaElement | null
  if (!el) throw new Error('nothing matches ' + selector)
  el.value = value
  el.dispatchEvent(new Event('input'))
  await flushPromises()
}

/** The message a form shows under a field (it appears after Element Plus's short debounce). */
async function expectFieldError(test: string, message: string) {
  const item = $(`[data-test="${test}"]`)?.closest('.el-form-item')
  if (!item) throw new Error('no form item holds ' + test)
  expect(item.classList.contains('is-error')).toBe(true)
  await vi.waitFor(() => expect(item.querySelector('.el-form-item__error')?.textContent?.trim()).toBe(message))
}

beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  i18n.global.locale.value = 'zh-CN'
  calls = []
  handlers = []
  for (const f of Object.values(ui)) f.mockReset()
  serve()
})

afterEach(() => {
  for (const w of mounted) w.unmount()
  mounted = []
  document.body.innerHTML = ''
  vi.unstubAllGlobals()
})

// ---- the order itself ---------------------------------------------------------------------------------
describe('the order', () => {
  it('shows the bulletin, department, requirement, deadline with what is left, findings and reminders', async () => {
    signIn(['rectification:read', 'report:draft'])
    on('GET', '/api/v1/orders/5', () => [200, order('open', [], ['draft'])])
    await show()
    expect(text('[data-test="order-status"]')).toBe('待整改')
    expect(text('[data-test="order-countdown"]')).toBe('剩 4 天')
    expect($('[data-test="order-bulletin"]')?.getAttribute('href')).toBe('/bulletins/3')
    expect(text('[data-test="order-bulletin"]')).toBe('效能通报〔2026〕1号')
    expect(text('[data-test="order-head"]')).toContain('市市场监督管理局')
    expect(text('[data-test="order-requirement"]')).toBe('请于期限内查明原因、落实整改并书面报告。')
    expect(text('[data-test="order-deadline"]')).toBe('2026-11-20')
    expect(text('[data-test="order-findings"]')).toContain('窗口人员上班时间玩手机游戏')
    expect(text('[data-test="order-reminders"]')).toContain('期限前 3 个工作日提醒')
  })

  it('counts overdue days in red and says when it is due today', async () => {
    signIn(['rectification:read'])
    on('GET', '/api/v1/orders/5', () => [200, order('open', [], [], { overdue: true, days_left: -3 })])
    await show()
    expect(text('[data-test="order-countdown"]')).toBe('逾期 3 天')
    expect($('[data-test="order-countdown"]')?.className).toContain('el-tag--danger')
  })

  it('says what the server says when the order cannot be read', async () => {
    signIn(['rectification:read'])
    on('GET', '/api/v1/orders/5', () => [500, { code: 'internal', message: '服务器内部错误，请稍后重试', details: null }])
    await show()
    expect(text('[data-test="order-load-error"]')).toContain('服务器内部错误，请稍后重试')
  })
})

// ---- the department -------------------------------------------------------------------------------
describe('the department’s report', () => {
  it('lets the liaison write and save a draft, but not submit it', async () => {
    signIn(['rectification:read', 'report:draft'])
    on('GET', '/api/v1/orders/5', () => [200, order('open', [], ['draft'])])
    on('PUT', '/api/v1/orders/5/report', (c) => [200, order('open', [report(1, 'draft', c.body)], ['draft'])])
    await show()
    expect($('[data-test="submit-report"]')).toBeNull()
    expect(text('[data-test="report-form"]')).toContain('请部门负责人核对并报送')
    await type('[data-test="report-cause"]', '窗口管理制度执行不严')
    await type('[data-test="report-measures"]', '开展作风整顿，严格考勤')
    expect($('[data-test="report-unsaved"]')).not.toBeNull()
    await click('[data-test="save-draft"]')
    expect(sent('PUT', '/api/v1/orders/5/report').map((c) => c.body)).toEqual([{ cause: '窗口管理制度执行不严', measures: '开展作风整顿，严格考勤', results: '', responsible: '' }])
    expect(ui.success).toHaveBeenCalledWith('草稿已保存')
    expect($('[data-test="report-unsaved"]')).toBeNull()
    expect(($('[data-test="report-cause"]') as HTMLTextAreaElement).value).toBe('窗口管理制度执行不严')
  })

  it('asks before leaving with unsaved words', async () => {
    signIn(['rectification:read', 'report:draft'])
    on('GET', '/api/v1/orders/5', () => [200, order('open', [], ['draft'])])
    const { router } = await show()
    await type('[data-test="report-cause"]', '还没保存')
    ui.confirm.mockRejectedValueOnce('cancel')
    await router.push('/rectification')
    expect(ui.confirm).toHaveBeenCalledTimes(1)
    expect(router.currentRoute.value.path).toBe('/rectification/5')
    ui.confirm.mockResolvedValueOnce('confirm')
    await router.push('/rectification')
    expect(router.currentRoute.value.path).toBe('/rectification')
  })

  it('puts the server’s field problems next to the field', async () => {
    signIn(['rectification:read', 'report:draft'])
    on('GET', '/api/v1/orders/5', () => [200, order('open', [], ['draft'])])
    on('PUT', '/api/v1/orders/5/report', () => [
      422,
      { code: 'validation_failed', message: '请求参数有误', details: [{ field: 'responsible', code: 'too_long', message: '不能超过 2000 个字' }] },
    ])
    await show()
    await type('[data-test="report-responsible"]', '很长')
    await click('[data-test="save-draft"]')
    await expectFieldError('report-responsible', '不能超过 2000 个字')
  })

  it('has the head submit after confirming, saving unsaved words first', async () => {
    signIn(['rectification:read', 'report:draft', 'report:submit'])
    on('GET', '/api/v1/orders/5', () => [200, order('open', [report(1, 'draft')], ['draft', 'submit'])])
    on('PUT', '/api/v1/orders/5/report', (c) => [200, order('open', [report(1, 'draft', c.body)], ['draft', 'submit'])])
    on('POST', '/api/v1/reports/101/steps', () => [200, order('submitted', [report(1, 'submitted', { results: '已整改到位' })], [])])
    await show()
    expect(($('[data-test="report-cause"]') as HTMLTextAreaElement).value).toBe('第1版原因')
    await type('[data-test="report-results"]', '已整改到位')
    await click('[data-test="submit-report"]')
    expect(text('[data-test="submit-dialog"]')).toContain('报送后不能修改')
    expect(sent('POST', '/api/v1/reports/101/steps')).toHaveLength(0)
    await click('[data-test="confirm-submit"]')
    expect(sent('PUT', '/api/v1/orders/5/report')[0].body.results).toBe('已整改到位')
    expect(sent('POST', '/api/v1/reports/101/steps').map((c) => c.body)).toEqual([{ action: 'submit_report', expected_state: 'draft' }])
    // The order now waits for the office: no form, the report in the history.
    expect(text('[data-test="order-status"]')).toBe('待审核')
    expect($('[data-test="report-form"]')).toBeNull()
    expect(text('[data-test="report-status-1"]')).toBe('已报送')
    expect(ui.success).toHaveBeenCalledWith('整改报告已报送')
  })

  it('shows why a submission was refused next to the field it concerns', async () => {
    signIn(['rectification:read', 'report:draft', 'report:submit'])
    on('GET', '/api/v1/orders/5', () => [200, order('open', [report(1, 'draft', { cause: '', measures: '' })], ['draft', 'submit'])])
    on('POST', '/api/v1/reports/101/steps', () => [
      422,
      { code: 'validation_failed', message: '请求参数有误', details: [{ field: 'measures', code: 'required', message: '请先填写原因分析和整改措施再报送' }] },
    ])
    await show()
    await click('[data-test="submit-report"]')
    await click('[data-test="confirm-submit"]')
    await expectFieldError('report-measures', '请先填写原因分析和整改措施再报送')
  })

  it('starts the next version from the returned one, with the office’s comments in sight', async () => {
    signIn(['rectification:read', 'report:draft', 'report:submit'])
    on('GET', '/api/v1/orders/5', () => [200, order('returned', [report(1, 'returned')], ['draft'])])
    await show()
    expect(text('[data-test="order-status"]')).toBe('已退回')
    expect(text('[data-test="report-returned"]')).toContain('整改措施不具体，请补充时限和责任人')
    expect(text('[data-test="report-form"]')).toContain('第 2 版')
    expect(($('[data-test="report-measures"]') as HTMLTextAreaElement).value).toBe('第1版措施')
    // The returned version stays on record, its comments marked.
    expect($('[data-test="review-comment-1"]')?.className).toContain('returned')
  })

  it('uploads files to the draft and shows the server’s refusal', async () => {
    signIn(['rectification:read', 'report:draft'])
    on('GET', '/api/v1/orders/5', () => [200, order('open', [report(1, 'draft')], ['draft'])])
    on('POST', '/api/v1/reports/101/attachments', (c) =>
      c.query.get('filename') === '整改照片.png'
        ? [201, { id: 900, filename: '整改照片.png', content_type: 'image/png', size: 2048, sha256: 'a'.repeat(64), uploaded_at: '2026-11-03T03:00:00Z' }]
        : [415, { code: 'unsupported_type', message: '只能上传文档（PDF、Word、Excel）、图片、音频或视频', details: null }],
    )
    await show()
    const input = $('[data-test="report-file-input"]') as HTMLInputElement
    Object.defineProperty(input, 'files', {
      configurable: true,
      value: [new File([new Uint8Array([137, 80, 78, 71])], '整改照片.png', { type: 'image/png' }), new File(['MZ'], 'tool.exe')],
    })
    input.dispatchEvent(new Event('change'))
    await flushPromises()
    await vi.waitFor(() => expect(calls.filter((c) => c.path === '/api/v1/reports/101/attachments')).toHaveLength(2))
    await flushPromises()
    const uploads = sent('POST', '/api/v1/reports/101/attachments')
    expect(uploads[0].contentType).toBe('application/octet-stream')
    expect(text('[data-test="attachment-900"]')).toContain('整改照片.png')
    expect(text('[data-test="upload-error"]')).toContain('只能上传文档（PDF、Word、Excel）、图片、音频或视频')
  })
})

// ---- the office ------------------------------------------------------------------------------------
describe('the office’s review', () => {
  const submitted = () => order('submitted', [report(1, 'submitted')], ['review'])

  it('returns only with comments, and with the date it chose', async () => {
    signIn(['rectification:read', 'rectification:manage'])
    on('GET', '/api/v1/orders/5', () => [200, submitted()])
    on('GET', '/api/v1/settings/rectification-policy', () => [200, { default_working_days: 10, remind_working_days_before: [3, 1, 0], resubmit_working_days: 5, masthead: 'x', issuer: 'y' }])
    on('POST', '/api/v1/reports/101/steps', (c) => [200, order('returned', [report(1, 'returned', { review_comment: c.body.comment })], [])])
    await show()
    expect($('[data-test="report-form"]')).toBeNull()
    await click('[data-test="review-return"]')
    expect(text('[data-test="return-dialog"]')).toContain('自今日起 5 个工作日')
    await click('[data-test="confirm-return"]')
    expect(sent('POST', '/api/v1/reports/101/steps')).toHaveLength(0)
    await expectFieldError('return-comment', '退回时请写明意见')
    await type('[data-test="return-comment"]', '  请补充责任人处理情况  ')
    await click('[data-test="confirm-return"]')
    expect(sent('POST', '/api/v1/reports/101/steps').map((c) => c.body)).toEqual([{ action: 'return', comment: '请补充责任人处理情况', expected_state: 'submitted' }])
    expect(text('[data-test="order-status"]')).toBe('已退回')
    expect(text('[data-test="review-comment-1"]')).toContain('请补充责任人处理情况')
    expect($('[data-test="review-panel"]')).toBeNull()
  })

  it('accepts with an optional comment', async () => {
    signIn(['rectification:read', 'rectification:manage'])
    on('GET', '/api/v1/orders/5', () => [200, submitted()])
    on('POST', '/api/v1/reports/101/steps', () => [200, order('accepted', [report(1, 'accepted')], [], { accepted_at: '2026-11-06T01:00:00Z' })])
    await show()
    await click('[data-test="review-accept"]')
    expect(sent('POST', '/api/v1/reports/101/steps').map((c) => c.body)).toEqual([{ action: 'accept', comment: '', expected_state: 'submitted' }])
    expect(text('[data-test="order-status"]')).toBe('已办结')
    expect(ui.success).toHaveBeenCalledWith('整改报告已采纳，整改通知已办结')
  })

  it('shows the server’s refusal and what the order has become', async () => {
    signIn(['rectification:read', 'rectification:manage'])
    let reads = 0
    on('GET', '/api/v1/orders/5', () => [200, ++reads === 1 ? submitted() : order('accepted', [report(1, 'accepted')], [])])
    on('POST', '/api/v1/reports/101/steps', () => [409, { code: 'invalid_transition', message: '报告已审核，不能再次审核', details: null }])
    await show()
    await click('[data-test="review-accept"]')
    expect(ui.error).toHaveBeenCalledWith('报告已审核，不能再次审核')
    expect(text('[data-test="order-status"]')).toBe('已办结')
  })
})

// ---- instructions --------------------------------------------------------------------------------
describe('leaders’ instructions', () => {
  it('are shown on their report, and a city leader adds one', async () => {
    signIn(['rectification:read', 'instruction:write'])
    const earlier = {
      id: 61,
      target_kind: 'report',
      target_id: 101,
      author_name: '王副市长',
      text: '要举一反三，全面排查。',
      created_at: '2026-11-05T03:00:00Z',
      follow_up: true,
      follow_up_department_id: 7,
      follow_up_department_name: '市市场监督管理局',
      follow_up_due: '2026-11-30',
      follow_up_status: 'open',
      follow_up_note: '',
      follow_up_done_at: null,
      can_complete: false,
    }
    on('GET', '/api/v1/orders/5', () => [200, order('submitted', [report(1, 'submitted', { instructions: [earlier] })], [])])
    on('POST', '/api/v1/instructions', (c) => [201, { ...earlier, id: 62, text: c.body.text, follow_up: false, follow_up_department_id: null, follow_up_department_name: null, follow_up_due: null, follow_up_status: null }])
    await show()
    expect(text('[data-test="instruction-61"]')).toContain('要举一反三，全面排查。')
    expect(text('[data-test="instruction-61"]')).toContain('请 市市场监督管理局 于 2026-11-30 前落实')
    await click('[data-test="instruct-101"]')
    await type('[data-test="instruction-text"]', '抓紧整改到位。')
    await click('[data-test="confirm-instruction"]')
    expect(sent('POST', '/api/v1/instructions').map((c) => c.body)).toEqual([{ target_kind: 'report', target_id: 101, text: '抓紧整改到位。' }])
    expect(text('[data-test="instruction-62"]')).toContain('抓紧整改到位。')
  })
})

// ---- the office's email settings (on the rules page) ------------------------------------------------
describe('the office’s email settings', () => {
  const channels = (over: Record<string, unknown> = {}) => ({
    dingtalk_webhook_set: false,
    dingtalk_signed: false,
    dingtalk_host: null,
    wecom_webhook_set: false,
    wecom_host: null,
    email_set: true,
    smtp_host: 'smtp.example.gov.cn',
    smtp_port: 465,
    smtp_security: 'tls',
    smtp_username: 'xnb@example.gov.cn',
    smtp_password_set: true,
    mail_from: '效能办 <xnb@example.gov.cn>',
    mail_to: ['duban@example.gov.cn'],
    ...over,
  })

  async function showPolicy(saved: Record<string, unknown>) {
    signIn(['rectification:manage'])
    on('GET', '/api/v1/settings/rectification-policy', () => [200, { default_working_days: 10, remind_working_days_before: [3, 1, 0], resubmit_working_days: 5, masthead: 'x', issuer: 'y' }])
    on('GET', '/api/v1/settings/notify-channels', () => [200, saved])
    const w = mount(RectificationPolicyView, { attachTo: document.body, global: { plugins: [pinia, i18n] } })
    mounted.push(w)
    await flushPromises()
  }

  it('sends the recipients as a list and never shows the password', async () => {
    await showPolicy(channels())
    on('PUT', '/api/v1/settings/notify-channels', (c) => [200, channels({ mail_to: c.body.mail_to })])
    // A saved password is only "set": no field holds it.
    expect($('[data-test="email-password"]')).toBeNull()
    expect(text('[data-test="email-password-state"]')).toContain('已设置')
    await click('[data-test="email-password-replace"]')
    await type('[data-test="email-password"]', 'mail-pw-42')
    await type('[data-test="email-to"]', 'duban@example.gov.cn\n督查科 <dck@example.gov.cn>， ;zhang@example.gov.cn\n')
    await click('[data-test="email-save"]')
    expect(sent('PUT', '/api/v1/settings/notify-channels').map((c) => c.body)).toEqual([
      { smtp_password: 'mail-pw-42', mail_to: ['duban@example.gov.cn', '督查科 <dck@example.gov.cn>', 'zhang@example.gov.cn'] },
    ])
    expect(ui.success).toHaveBeenCalledWith('邮件设置已保存')
    expect($('[data-test="email-password"]')).toBeNull()
    expect(document.body.innerHTML).not.toContain('mail-pw-42')
    expect(($('[data-test="email-to"]') as HTMLTextAreaElement).value).toBe('duban@example.gov.cn\n督查科 <dck@example.gov.cn>\nzhang@example.gov.cn')
  })

  it('turns email off with an empty host, and puts the server’s problems next to the field', async () => {
    await showPolicy(channels())
    let refuse = true
    on('PUT', '/api/v1/settings/notify-channels', (c) =>
      refuse
        ? [422, { code: 'validation_failed', message: '请求参数有误', details: [{ field: 'mail_to', code: 'invalid_email', message: '“duban”不是有效的邮箱地址' }] }]
        : [200, channels({ email_set: false, smtp_host: c.body.smtp_host })],
    )
    await type('[data-test="email-to"]', 'duban')
    await click('[data-test="email-save"]')
    expect(sent('PUT', '/api/v1/settings/notify-channels')[0].body).toEqual({ mail_to: ['duban'] })
    await expectFieldError('email-to', '“duban”不是有效的邮箱地址')
    refuse = false
    await click('[data-test="email-state"]')
    expect($('[data-test="email-host"]')).toBeNull()
    await click('[data-test="email-save"]')
    expect(sent('PUT', '/api/v1/settings/notify-channels')[1].body).toEqual({ smtp_host: '' })
    expect(ui.success).toHaveBeenCalledWith('已停止发送邮件')
    expect(($('[data-test="email-state"]') as HTMLElement).className).not.toContain('is-checked')
  })
})
