// The first-inquiry log (首问负责制), its helpers and its pages against a stand-in server: the
// shelves, the record form with the server's refusals on their fields, an inquiry's drawer with
// only the steps allowed and its whole chain, and the office's review of lapses.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, RouterView, type Router } from 'vue-router'
import { defineComponent, h } from 'vue'
import { i18n } from '@/locales'
import { useAuthStore } from '@/stores/auth'
import { buildMenu } from '@/layouts/menu'
import {
  countdown,
  emptyRecord,
  handTo,
  linkView,
  receiverError,
  receiverKey,
  recordBody,
  stepBody,
  textError,
  who,
} from '@/api/inquiries'
import InquiriesView from '@/views/inquiries/InquiriesView.vue'
import LapsesView from '@/views/inquiries/LapsesView.vue'

const ui = vi.hoisted(() => ({ success: vi.fn(), error: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => {
  const original = await importOriginal<typeof import('element-plus')>()
  return { ...original, ElMessage: Object.assign(vi.fn(), { success: ui.success, error: ui.error, warning: vi.fn(), info: vi.fn() }) }
})

// ---- a stand-in server ---------------------------------------------------------------------------
interface Call {
  method: string
  path: string
  query: URLSearchParams
  body: any
}
type Handler = (c: Call) => [number, unknown] | undefined
let calls: Call[] = []
let handlers: Handler[] = []

function on(method: string, path: string, reply: (c: Call) => [number, unknown]) {
  handlers.push((c) => (c.method === method && c.path === path ? reply(c) : undefined))
}
/** A reply that wins over those set before it. */
function first(method: string, path: string, reply: (c: Call) => [number, unknown]) {
  handlers.unshift((c) => (c.method === method && c.path === path ? reply(c) : undefined))
}

function serve() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const url = new URL(req.url)
      const text = req.method === 'GET' ? '' : await req.text()
      const c: Call = { method: req.method, path: url.pathname, query: url.searchParams, body: text ? JSON.parse(text) : undefined }
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

function page<T>(items: T[]) {
  return { items, total: items.length, page: 1, page_size: 20 }
}
function cityDay(offset: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(Date.now() + offset * 86_400_000))
}

// ---- inquiries ---------------------------------------------------------------------------------------
function inquiry(over: Record<string, unknown> = {}) {
  return {
    id: 5,
    number: 'SW-2026-000005',
    channel: 'counter',
    asker: '王**',
    phone: '138****5678',
    content: '个体户营业执照经营范围变更需要哪些材料',
    state: 'pending',
    first_person_id: 11,
    first_person_name: '李明',
    first_department_id: 7,
    first_department_name: '市场监督管理局',
    holder_person_id: null,
    holder_person_name: null,
    holder_department_id: 9,
    holder_department_name: '市公安局',
    hand_overs: 1,
    accept_due: cityDay(1),
    due: cityDay(3),
    overdue: false,
    answer: null,
    asked_at: '2026-11-02T01:00:00Z',
    answered_at: null,
    ...over,
  }
}

const CHAIN = [
  { kind: 'inquiry.recorded', at: '2026-11-02T01:00:00Z', person_name: '李明', department_name: '市场监督管理局', due: '2026-11-05' },
  {
    kind: 'inquiry.handed_over',
    at: '2026-11-02T01:01:00Z',
    person_name: '李明',
    department_name: '市场监督管理局',
    to_department_name: '市公安局',
    text: '涉及户籍证明，请公安局答复',
    due: '2026-11-03',
  },
]

function detail(over: Record<string, unknown> = {}, allowed: string[] = ['accept', 'refuse'], chain: unknown[] = CHAIN, lapses: unknown[] = []) {
  return { ...inquiry(over), allowed_actions: allowed, chain, lapses }
}

// ---- mounting ----------------------------------------------------------------------------------------
let pinia: Pinia
let mounted: VueWrapper[] = []

function signIn(permissions: string[], person_id: number | null = 11) {
  const auth = useAuthStore()
  auth.me = { id: 9, username: 'u', display_name: 'U', roles: [], permissions, scopes: {}, must_change_password: false, person_id } as never
  auth.checked = true
}

async function show(path: string): Promise<{ w: VueWrapper; router: Router }> {
  const stub = { render: () => null }
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/inquiries', name: 'inquiries', component: InquiriesView },
      { path: '/inquiries/lapses', name: 'inquiry-lapses', component: LapsesView },
      { path: '/inspections/findings', name: 'findings', component: stub },
    ],
  })
  await router.push(path)
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
  await vi.waitFor(() => expect(item.querySelector('.el-form-item__error')?.textContent?.trim()).toBe(message))
}
/** The receiver select inside the element with this data-test, searched and picked as a user would. */
async function pickReceiver(w: VueWrapper, within: string, q: string, key: string) {
  const select = w.findAllComponents({ name: 'ElSelect' }).find((s) => s.attributes('data-test') === 'inquiry-receiver' && s.element.closest(`[data-test="${within}"]`))
  if (!select) throw new Error('no receiver select in ' + within)
  await (select.props('remoteMethod') as (q: string) => Promise<void>)(q)
  await flushPromises()
  select.vm.$emit('update:modelValue', key)
  await flushPromises()
  return select
}

beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  i18n.global.locale.value = 'zh-CN'
  calls = []
  handlers = []
  ui.success.mockReset()
  ui.error.mockReset()
  serve()
  window.innerWidth = 1366
})

afterEach(() => {
  for (const w of mounted) w.unmount()
  mounted = []
  document.body.innerHTML = ''
  vi.unstubAllGlobals()
})

// ---- the helpers ---------------------------------------------------------------------------------------
describe('what the forms send', () => {
  it('sends only what the first move needs', () => {
    const f = { ...emptyRecord(), asker: ' 王先生 ', phone: ' ', content: '怎么办理居住证', text: '请公安局答复', to: { department_id: 9 } }
    expect(recordBody({ ...f, then: 'hand_over' })).toEqual({ channel: 'counter', asker: '王先生', phone: null, content: '怎么办理居住证', then: 'hand_over', text: '请公安局答复', to: { department_id: 9 } })
    expect(recordBody({ ...f, then: 'answer', phone: '13812345678' })).toMatchObject({ then: 'answer', phone: '13812345678', text: '请公安局答复', to: null })
    expect(recordBody({ ...f, then: 'keep' })).toMatchObject({ then: 'keep', text: '', to: null })
  })

  it('sends a receiver only to hand over, and no text to take it up', () => {
    expect(stepBody('accept', '写了也不发', { person_id: 3 })).toEqual({ action: 'accept', text: '', to: null })
    expect(stepBody('hand_over', '请接收', { person_id: 3 })).toEqual({ action: 'hand_over', text: '请接收', to: { person_id: 3 } })
    expect(stepBody('refuse', '不属于本局职责', { person_id: 3 })).toEqual({ action: 'refuse', text: '不属于本局职责', to: null })
  })

  it('keys a staff member apart from a department, and hands to the person alone', () => {
    const person = { person_id: 3, department_id: 9, label: '张三（市公安局）' }
    const department = { person_id: null, department_id: 9, label: '市公安局' }
    expect(receiverKey(person)).toBe('p3')
    expect(receiverKey(department)).toBe('d9')
    expect(handTo(person)).toEqual({ person_id: 3 })
    expect(handTo(department)).toEqual({ department_id: 9 })
    expect(receiverKey(handTo(person))).toBe('p3')
  })

  it('finds the server’s refusal under the field each step writes to', () => {
    const errors = { reason: '请说明退回原因', answer: '请填写答复内容', note: '请写明转交说明', 'to.department_id': '该部门不存在或已撤销' }
    expect(textError(errors, 'refuse')).toBe('请说明退回原因')
    expect(textError(errors, 'answer')).toBe('请填写答复内容')
    expect(textError(errors, 'hand_over')).toBe('请写明转交说明')
    expect(textError({ text: '过长' }, 'answer')).toBe('过长')
    expect(textError(errors, 'accept')).toBeUndefined()
    expect(receiverError(errors)).toBe('该部门不存在或已撤销')
    expect(receiverError({ to: '请选择转交的人员或部门' })).toBe('请选择转交的人员或部门')
  })
})

describe('days and names', () => {
  const today = '2026-11-10'
  it('counts the days left to answer, and the days past', () => {
    expect(countdown({ state: 'handling', due: '2026-11-13', overdue: false }, today)).toEqual({ kind: 'left', n: 3, type: 'info' })
    expect(countdown({ state: 'pending', due: '2026-11-11', overdue: false }, today)).toEqual({ kind: 'left', n: 1, type: 'warning' })
    expect(countdown({ state: 'handling', due: today, overdue: false }, today)).toEqual({ kind: 'today', n: 0, type: 'warning' })
    expect(countdown({ state: 'handling', due: '2026-11-07', overdue: true }, today)).toEqual({ kind: 'overdue', n: 3, type: 'danger' })
    expect(countdown({ state: 'answered', due: '2026-11-07', overdue: false }, today)).toBeNull()
  })

  it('reads each link of the chain as a sentence', () => {
    const { t, te } = i18n.global
    const tt = (k: string, p?: Record<string, unknown>) => t(k, p ?? {})
    expect(who(tt, '张三', '市公安局')).toBe('张三（市公安局）')
    expect(who(tt, null, '市公安局')).toBe('市公安局')
    const handed = linkView(tt, te, CHAIN[1] as never)
    expect(handed).toMatchObject({ title: '转交', line: '李明（市场监督管理局） 转交给 市公安局', due: '应于 2026-11-03 前接收', textLabel: '转交说明', text: '涉及户籍证明，请公安局答复', type: 'warning' })
    const refused = linkView(tt, te, { kind: 'inquiry.refused', at: '', person_name: '张三', department_name: '市公安局', to_person_name: '李明', to_department_name: '市场监督管理局', text: '不属于本局' } as never)
    expect(refused).toMatchObject({ title: '拒收退回', line: '张三（市公安局） 退回给 李明（市场监督管理局）', textLabel: '退回原因', type: 'danger' })
    const unknown = linkView(tt, te, { kind: 'inquiry.something_new', at: '', person_name: '张三', department_name: '市公安局' } as never)
    expect(unknown.title).toBe('inquiry.something_new')
    i18n.global.locale.value = 'en'
    expect(linkView(tt, te, CHAIN[0] as never)).toMatchObject({ title: 'Recorded', line: 'Asked first: 李明 (市场监督管理局)', due: 'to be answered by 2026-11-05' })
  })
})

describe('the menu', () => {
  it('opens the log to those who handle inquiries and the review to the office', () => {
    const has = (codes: string[]) => (p?: string) => !p || p.split('|').some((c) => codes.includes(c))
    const paths = (codes: string[]) => buildMenu(has(codes)).flatMap((g) => g.items.map((i) => i.path))
    expect(paths(['inquiry:handle'])).toEqual(['/', '/inbox', '/inquiries'])
    expect(paths(['inquiry:handle', 'inquiry:review'])).toEqual(['/', '/inbox', '/inquiries', '/inquiries/lapses'])
  })
})

// ---- the list ------------------------------------------------------------------------------------------
describe('the inquiries page', () => {
  it('opens on what waits for the staff member, and keeps the shelf chosen in the address', async () => {
    signIn(['inquiry:handle'])
    on('GET', '/api/v1/inquiries', (c) =>
      c.query.get('shelf') === 'mine'
        ? [200, page([inquiry(), inquiry({ id: 6, number: 'SW-2026-000006', state: 'handling', holder_person_name: '张三', overdue: true, due: cityDay(-2), accept_due: null })])]
        : [200, page([])],
    )
    const { router } = await show('/inquiries')
    expect(sent('GET', '/api/v1/inquiries')[0].query.get('shelf')).toBe('mine')
    const table = text('[data-test="inquiries-table"]')
    expect(table).toContain('SW-2026-000005')
    expect(table).toContain('现场')
    expect(table).toContain('个体户营业执照经营范围变更需要哪些材料')
    expect(table).toContain('李明')
    expect(table).toContain('市场监督管理局')
    expect(table).toContain('市公安局')
    expect(text('[data-test="inquiries-state-5"]')).toBe('待接收')
    expect(text('[data-test="inquiries-countdown-5"]')).toBe('剩 3 天')
    expect(text('[data-test="inquiries-state-6"]')).toBe('办理中')
    expect(text('[data-test="inquiries-countdown-6"]')).toBe('逾期 2 天')
    expect($('[data-test="inquiries-countdown-6"]')?.className).toContain('el-tag--danger')

    await click('#tab-asked')
    expect(sent('GET', '/api/v1/inquiries').at(-1)!.query.get('shelf')).toBe('asked')
    expect(router.currentRoute.value.query.shelf).toBe('asked')
    expect(text('[data-test="inquiries-table"]')).toContain('您还没有登记过首问咨询')
  })

  it('shows everything within reach to an account not linked to a staff member', async () => {
    signIn(['inquiry:handle', 'inquiry:review'], null)
    on('GET', '/api/v1/inquiries', () => [200, page([inquiry()])])
    await show('/inquiries')
    expect(sent('GET', '/api/v1/inquiries')[0].query.get('shelf')).toBe('all')
    expect($('#tab-all')?.classList.contains('is-active')).toBe(true)
  })

  it('shows one card per inquiry at phone width', async () => {
    window.innerWidth = 390
    signIn(['inquiry:handle'])
    on('GET', '/api/v1/inquiries', () => [200, page([inquiry()])])
    await show('/inquiries')
    expect($('[data-test="inquiries-table"]')).toBeNull()
    const card = text('[data-test="inquiries-row-5"]')
    expect(card).toContain('待接收')
    expect(card).toContain('首问：李明 · 当前：市公安局')
    expect(card).toContain('剩 3 天')
  })
})

// ---- one inquiry -------------------------------------------------------------------------------------
describe('an inquiry’s drawer', () => {
  function serveOne(d: unknown) {
    on('GET', '/api/v1/inquiries', () => [200, page([inquiry()])])
    on('GET', '/api/v1/inquiries/5', () => [200, d])
  }

  it('opens from the address with the inquiry, the whole chain and only the steps allowed', async () => {
    signIn(['inquiry:handle'])
    serveOne(detail())
    await show('/inquiries?id=5')
    expect(text('[data-test="inquiry-state"]')).toBe('待接收')
    expect(text('[data-test="inquiry-content"]')).toBe('个体户营业执照经营范围变更需要哪些材料')
    expect(text('[data-test="inquiry-holder"]')).toBe('市公安局')
    expect(text('[data-test="inquiry-phone"]')).toBe('138****5678')
    const chain = text('[data-test="inquiry-chain"]')
    expect(chain).toMatch(/首问登记[\s\S]*应于 2026-11-05 前答复[\s\S]*首问人：李明（市场监督管理局）[\s\S]*转交[\s\S]*转交给 市公安局[\s\S]*转交说明：涉及户籍证明/)
    expect($('[data-test="inquiry-action-accept"]')).not.toBeNull()
    expect($('[data-test="inquiry-action-answer"]')).toBeNull()
    expect($('[data-test="inquiry-action-hand_over"]')).toBeNull()
    // Refusing is there, but asked for: it goes before the office.
    expect($('[data-test="inquiry-action-refuse"]')).toBeNull()
    await click('[data-test="inquiry-refuse-open"]')
    expect(text('[data-test="inquiry-action-refuse"]')).toContain('交效能办审查')
  })

  it('reveals the phone on purpose only', async () => {
    signIn(['inquiry:handle'])
    serveOne(detail())
    on('POST', '/api/v1/inquiries/5/reveal-phone', () => [200, { phone: '13812345678' }])
    await show('/inquiries?id=5')
    expect(sent('POST', '/api/v1/inquiries/5/reveal-phone')).toHaveLength(0)
    await click('[data-test="inquiry-reveal"]')
    expect(sent('POST', '/api/v1/inquiries/5/reveal-phone')).toHaveLength(1)
    expect(text('[data-test="inquiry-phone"]')).toBe('13812345678')
    expect($('[data-test="inquiry-reveal"]')).toBeNull()
  })

  it('takes it up, then answers; a missing answer is refused next to its field', async () => {
    signIn(['inquiry:handle'])
    serveOne(detail())
    on('POST', '/api/v1/inquiries/5/steps', (c) => {
      if (c.body.action === 'accept') return [200, detail({ state: 'handling', holder_person_name: '张三', accept_due: null }, ['answer', 'hand_over'])]
      if (!c.body.text) return [422, { code: 'validation_failed', message: '请填写答复内容', details: [{ field: 'answer', code: 'required', message: '请填写答复内容' }] }]
      return [200, detail({ state: 'answered', holder_person_name: '张三', answer: c.body.text, answered_at: '2026-11-02T03:00:00Z' }, [])]
    })
    await show('/inquiries?id=5')
    await click('[data-test="inquiry-submit-accept"]')
    expect(sent('POST', '/api/v1/inquiries/5/steps')[0].body).toEqual({ action: 'accept', text: '', to: null })
    expect(ui.success).toHaveBeenCalledWith('已接收')
    expect(text('[data-test="inquiry-state"]')).toBe('办理中')
    expect($('[data-test="inquiry-action-answer"]')).not.toBeNull()
    expect($('[data-test="inquiry-action-hand_over"]')).not.toBeNull()

    await click('[data-test="inquiry-submit-answer"]')
    await expectFieldError('inquiry-text-answer', '请填写答复内容')
    expect(ui.error).not.toHaveBeenCalled()
    await type('[data-test="inquiry-text-answer"]', '户籍证明可在派出所窗口当场开具')
    await click('[data-test="inquiry-submit-answer"]')
    expect(sent('POST', '/api/v1/inquiries/5/steps').at(-1)!.body).toEqual({ action: 'answer', text: '户籍证明可在派出所窗口当场开具', to: null })
    expect(text('[data-test="inquiry-state"]')).toBe('已答复')
    expect(text('[data-test="inquiry-answer"]')).toBe('户籍证明可在派出所窗口当场开具')
    expect(document.body.querySelectorAll('[data-test^="inquiry-action-"]')).toHaveLength(0)
    // The list is read again after each step.
    expect(sent('GET', '/api/v1/inquiries').length).toBeGreaterThanOrEqual(3)
  })

  it('hands it over to a department found by name', async () => {
    signIn(['inquiry:handle'])
    serveOne(detail({ state: 'handling', holder_person_name: '张三', accept_due: null }, ['answer', 'hand_over']))
    on('GET', '/api/v1/inquiry-receivers', () => [200, [{ person_id: null, department_id: 12, label: '出入境管理支队' }, { person_id: 31, department_id: 12, label: '赵六（出入境管理支队）' }]])
    on('POST', '/api/v1/inquiries/5/steps', () => [200, detail({ state: 'pending', holder_department_name: '出入境管理支队' }, [])])
    const { w } = await show('/inquiries?id=5')
    await pickReceiver(w, 'inquiry-action-hand_over', ' 出入境 ', 'd12')
    expect(sent('GET', '/api/v1/inquiry-receivers')[0].query.get('q')).toBe('出入境')
    await type('[data-test="inquiry-text-hand_over"]', '护照加急请出入境支队答复')
    await click('[data-test="inquiry-submit-hand_over"]')
    expect(sent('POST', '/api/v1/inquiries/5/steps')[0].body).toEqual({ action: 'hand_over', text: '护照加急请出入境支队答复', to: { department_id: 12 } })
    expect(ui.success).toHaveBeenCalledWith('已转交')
  })

  it('shows where the inquiry is now when someone else moved it first', async () => {
    signIn(['inquiry:handle'])
    let moved = false
    on('GET', '/api/v1/inquiries', () => [200, page([inquiry()])])
    on('GET', '/api/v1/inquiries/5', () => [200, moved ? detail({ state: 'handling', holder_person_name: '王五' }, []) : detail()])
    on('POST', '/api/v1/inquiries/5/steps', () => {
      moved = true
      return [409, { code: 'state_changed', message: '该咨询已被他人处理，请刷新后重试', details: null }]
    })
    await show('/inquiries?id=5')
    await click('[data-test="inquiry-submit-accept"]')
    expect(ui.error).toHaveBeenCalledWith('该咨询已被他人处理，请刷新后重试')
    expect(text('[data-test="inquiry-state"]')).toBe('办理中')
    expect(text('[data-test="inquiry-holder"]')).toContain('王五')
    expect($('[data-test="inquiry-read-only"]')).not.toBeNull()
  })

  it('lists its lapses with the finding made of one', async () => {
    signIn(['inquiry:handle', 'finding:read'], null)
    const lapse = { id: 3, inquiry_id: 5, inquiry_number: 'SW-2026-000005', inquiry_content: '…', kind: 'refused', department_id: 9, department_name: '市公安局', person_id: 31, person_name: '赵六', raised_at: '2026-11-02T02:00:00Z', state: 'finding', finding_id: 77, reason: '确属推诿', reviewed_at: '2026-11-03T02:00:00Z' }
    serveOne(detail({}, [], CHAIN, [lapse]))
    await show('/inquiries?id=5')
    const lapses = text('[data-test="inquiry-lapses"]')
    expect(lapses).toContain('拒收推诿')
    expect(lapses).toContain('赵六（市公安局）')
    expect(lapses).toContain('已立为问题')
    expect(lapses).toContain('确属推诿')
    expect($('[data-test="inquiry-lapses"] a')?.getAttribute('href')).toBe('/inspections/findings?id=77')
  })
})

// ---- recording -----------------------------------------------------------------------------------------
describe('recording an inquiry', () => {
  async function openForm() {
    signIn(['inquiry:handle'])
    on('GET', '/api/v1/inquiries', () => [200, page([])])
    on('GET', '/api/v1/settings/inquiry-policy', () => [200, { accept_days: 1, answer_days: 3 }])
    on('GET', '/api/v1/inquiry-receivers', () => [200, [{ person_id: null, department_id: 9, label: '市公安局' }]])
    const shown = await show('/inquiries')
    await click('[data-test="inquiries-record"]')
    return shown
  }

  it('hands it over there and then, and opens what was recorded', async () => {
    on('POST', '/api/v1/inquiries', () => [201, detail({ id: 8, number: 'SW-2026-000008' }, [])])
    on('GET', '/api/v1/inquiries/8', () => [200, detail({ id: 8, number: 'SW-2026-000008' }, [])])
    const { w, router } = await openForm()
    await click('[data-test="inquiry-channel-phone"] input')
    await type('[data-test="inquiry-asker"]', '王先生')
    await type('[data-test="inquiry-phone-input"]', '13812345678')
    await type('[data-test="inquiry-content-input"]', '新生儿落户需要什么材料')
    await click('[data-test="inquiry-then-keep"] input')
    expect(text('[data-test="inquiry-record"]')).toContain('须在 3 个工作日内办结')
    await click('[data-test="inquiry-then-hand_over"] input')
    await pickReceiver(w, 'inquiry-record', '公安', 'd9')
    await type('[data-test="inquiry-record-text"]', '户籍业务，请公安局答复')
    await click('[data-test="inquiry-record-save"]')
    expect(sent('POST', '/api/v1/inquiries')[0].body).toEqual({
      channel: 'phone',
      asker: '王先生',
      phone: '13812345678',
      content: '新生儿落户需要什么材料',
      then: 'hand_over',
      text: '户籍业务，请公安局答复',
      to: { department_id: 9 },
    })
    expect(ui.success).toHaveBeenCalledWith('已登记首问咨询 SW-2026-000008')
    expect(router.currentRoute.value.query.id).toBe('8')
    await flushPromises()
    expect(text('[data-test="inquiry-drawer"] .el-drawer__title')).toBe('首问咨询 SW-2026-000008')
  })

  it('places the server’s refusals on their fields', async () => {
    first('POST', '/api/v1/inquiries', () => [
      422,
      {
        code: 'validation_failed',
        message: '请检查填写的内容',
        details: [
          { field: 'content', code: 'required', message: '请写明咨询事项' },
          { field: 'phone', code: 'invalid', message: '手机号码格式不正确' },
          { field: 'to', code: 'required', message: '请选择转交的人员或部门' },
        ],
      },
    ])
    await openForm()
    await type('[data-test="inquiry-phone-input"]', '1234')
    await click('[data-test="inquiry-then-hand_over"] input')
    await click('[data-test="inquiry-record-save"]')
    await expectFieldError('inquiry-content-input', '请写明咨询事项')
    await expectFieldError('inquiry-phone-input', '手机号码格式不正确')
    await expectFieldError('inquiry-receiver', '请选择转交的人员或部门')
    expect(ui.error).not.toHaveBeenCalled()
    expect($('[data-test="inquiry-record"]')).not.toBeNull()
  })

  it('tells an account not linked to a staff member why, in the server’s words', async () => {
    first('POST', '/api/v1/inquiries', () => [403, { code: 'not_staff', message: '您的账号未关联在职工作人员，不能办理首问咨询', details: null }])
    await openForm()
    await type('[data-test="inquiry-content-input"]', '咨询事项')
    await type('[data-test="inquiry-record-text"]', '已当场答复')
    await click('[data-test="inquiry-record-save"]')
    expect(sent('POST', '/api/v1/inquiries')[0].body).toMatchObject({ then: 'answer', text: '已当场答复', to: null })
    expect(ui.error).toHaveBeenCalledWith('您的账号未关联在职工作人员，不能办理首问咨询')
  })
})

// ---- the office's review --------------------------------------------------------------------------------
describe('reviewing lapses', () => {
  const LAPSE = {
    id: 3,
    inquiry_id: 5,
    inquiry_number: 'SW-2026-000005',
    inquiry_content: '个体户营业执照经营范围变更需要哪些材料',
    kind: 'refused',
    department_id: 9,
    department_name: '市公安局',
    person_id: 31,
    person_name: '赵六',
    raised_at: '2026-11-02T02:00:00Z',
    state: 'pending',
    finding_id: null,
    reason: null,
    reviewed_at: null,
  }
  const CATEGORIES = [
    { id: 1, code: 'ATTITUDE', name: '服务态度差', name_en: 'Poor attitude', default_severity: 'general', sort_order: 10, status: 'active' },
    { id: 4, code: 'FIRST_INQUIRY', name: '违反首问负责', name_en: 'Breach of the first-inquiry rule', default_severity: 'general', sort_order: 40, status: 'active' },
  ]

  async function openQueue() {
    signIn(['inquiry:handle', 'inquiry:review', 'finding:read'], null)
    on('GET', '/api/v1/inquiry-lapses', (c) => [200, page(c.query.get('state') === 'pending' ? [LAPSE] : [])])
    on('GET', '/api/v1/finding-categories', () => [200, CATEGORIES])
    on('GET', '/api/v1/settings/inquiry-policy', () => [200, { accept_days: 1, answer_days: 3 }])
    return show('/inquiries/lapses')
  }

  it('lists the pending ones and opens the inquiry beside the queue', async () => {
    on('GET', '/api/v1/inquiries/5', () => [200, detail({}, [])])
    await openQueue()
    expect(sent('GET', '/api/v1/inquiry-lapses')[0].query.get('state')).toBe('pending')
    const table = text('[data-test="lapses-table"]')
    expect(table).toContain('拒收推诿')
    expect(table).toContain('赵六')
    expect(table).toContain('个体户营业执照经营范围变更需要哪些材料')
    await click('[data-test="lapses-inquiry-3"]')
    expect(text('[data-test="inquiry-drawer"] .el-drawer__title')).toBe('首问咨询 SW-2026-000005')
    expect(text('[data-test="inquiry-chain"]')).toContain('转交给 市公安局')
  })

  it('makes a finding in the rule’s category and leads on to it', async () => {
    on('POST', '/api/v1/inquiry-lapses/3/review', (c) =>
      c.body.reason ? [200, { ...LAPSE, state: 'finding', finding_id: 77, reason: c.body.reason, reviewed_at: '2026-11-03T02:00:00Z' }] : [422, { code: 'validation_failed', message: '请填写审查意见', details: [{ field: 'reason', code: 'required', message: '请填写审查意见' }] }],
    )
    const { w } = await openQueue()
    await click('[data-test="lapses-review-3"]')
    const category = w.findAllComponents({ name: 'ElSelect' }).find((s) => s.attributes('data-test') === 'lapses-category')!
    expect(category.props('modelValue')).toBe(4)
    await click('[data-test="lapses-send"]')
    await expectFieldError('lapses-reason', '请填写审查意见')
    await type('[data-test="lapses-reason"]', '经核实，接收人确属推诿')
    await click('[data-test="lapses-send"]')
    expect(sent('POST', '/api/v1/inquiry-lapses/3/review').at(-1)!.body).toEqual({ decision: 'finding', reason: '经核实，接收人确属推诿', category_id: 4, severity: null, description: null })
    expect($('[data-test="lapses-made-finding"]')?.getAttribute('href')).toBe('/inspections/findings?id=77')
  })

  it('dismisses one with a reason, sending no category', async () => {
    on('POST', '/api/v1/inquiry-lapses/3/review', (c) => [200, { ...LAPSE, state: 'dismissed', reason: c.body.reason, reviewed_at: '2026-11-03T02:00:00Z' }])
    await openQueue()
    await click('[data-test="lapses-review-3"]')
    await click('[data-test="lapses-decision-dismiss"] input')
    expect($('[data-test="lapses-category"]')).toBeNull()
    await type('[data-test="lapses-reason"]', '群众咨询事项确不属于该局职责')
    await click('[data-test="lapses-send"]')
    expect(sent('POST', '/api/v1/inquiry-lapses/3/review')[0].body).toEqual({ decision: 'dismiss', reason: '群众咨询事项确不属于该局职责', category_id: null, severity: null, description: null })
    expect(ui.success).toHaveBeenCalledWith('线索已不予认定')
  })

  it('keeps the rule’s working days, within their limits', async () => {
    on('PUT', '/api/v1/settings/inquiry-policy', (c) => [200, c.body])
    const { w } = await openQueue()
    expect(($('#inquiry-policy-accept_days') as HTMLInputElement).value).toBe('1')
    const answer = w.findAllComponents({ name: 'ElInputNumber' }).find((n) => n.attributes('data-test') === 'inquiry-policy-answer_days')!
    expect(answer.props('max')).toBe(30)
    answer.vm.$emit('update:modelValue', 5)
    await flushPromises()
    await click('[data-test="inquiry-policy-save"]')
    expect(sent('PUT', '/api/v1/settings/inquiry-policy')[0].body).toEqual({ accept_days: 1, answer_days: 5 })
    expect(ui.success).toHaveBeenCalledWith('已保存')
  })
})
