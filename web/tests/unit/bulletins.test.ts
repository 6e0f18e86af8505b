// The bulletin list and its compose drawer, mounted against a stand-in server: what the office and
// a reader each see, a draft saved with the findings picked, the server's field errors shown next
// to their fields, and a correction of a published bulletin.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import { i18n } from '@/locales'
import { useAuthStore } from '@/stores/auth'
import BulletinsView from '@/views/rectification/BulletinsView.vue'

const ui = vi.hoisted(() => ({ prompt: vi.fn(), success: vi.fn(), error: vi.fn(), warning: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => {
  const original = await importOriginal<typeof import('element-plus')>()
  return {
    ...original,
    ElMessageBox: { prompt: ui.prompt, confirm: vi.fn() },
    ElMessage: Object.assign(vi.fn(), { success: ui.success, error: ui.error, warning: ui.warning, info: vi.fn() }),
  }
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

function on(method: string, path: string | RegExp, reply: (c: Call) => [number, unknown]) {
  handlers.unshift((c) => (c.method === method && (typeof path === 'string' ? c.path === path : path.test(c.path)) ? reply(c) : undefined))
}

function serve() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const url = new URL(req.url)
      const text = req.method === 'GET' ? '' : await req.text()
      const c: Call = { method: req.method, path: url.pathname, query: url.searchParams, body: text ? JSON.parse(text) : undefined }
      calls.push(c)
      for (const h of handlers) {
        const r = h(c)
        if (r) return new Response(JSON.stringify(r[1]), { status: r[0], headers: { 'Content-Type': 'application/json' } })
      }
      return new Response(JSON.stringify({ code: 'not_found', message: 'not found: ' + c.path, details: null }), { status: 404, headers: { 'Content-Type': 'application/json' } })
    }),
  )
}

function page<T>(items: T[], total = items.length) {
  return { items, total, page: 1, page_size: 20 }
}

function bulletin(id: number, over: Record<string, unknown> = {}) {
  return {
    id,
    status: 'draft',
    scope: 'internal',
    title: `通报 ${id}`,
    body: '各部门：\n现将有关问题通报如下。',
    period_start: '2026-11-01',
    period_end: '2026-11-30',
    mask_names: true,
    corrects: null,
    corrected_by: [],
    requirement: '请认真整改。',
    deadline: { kind: 'working_days', days: 10 },
    year: null,
    number: null,
    number_text: null,
    public_path: null,
    finding_count: 0,
    created_at: '2026-12-01T01:00:00Z',
    updated_at: '2026-12-01T01:00:00Z',
    published_at: null,
    ...over,
  }
}
/** What the server offers the signed-in user on a bulletin (the office, a leader or a reader). */
function offered<T extends { status: string }>(b: T): T & { allowed_actions: string[] } {
  const office = useAuthStore().has('rectification:manage')
  const leader = useAuthStore().has('instruction:write')
  const actions =
    b.status === 'draft' ? (office ? ['edit', 'publish', 'withdraw'] : []) : b.status === 'published' ? [...(office ? ['correct'] : []), ...(leader ? ['instruct'] : [])] : []
  return { ...b, allowed_actions: actions }
}
const PUBLISHED = bulletin(3, {
  status: 'published',
  scope: 'public',
  title: '关于11月明察暗访情况的通报',
  year: 2026,
  number: 7,
  number_text: '效能通报〔2026〕7号',
  public_path: '/public/bulletins/2026/7',
  finding_count: 1,
  published_at: '2026-12-02T02:00:00Z',
  deadline: { kind: 'date', date: '2026-12-20' },
})
const DRAFT = bulletin(4, { title: '十二月通报（草稿）' })

function finding(id: number, occurred_at: string, state = 'confirmed') {
  return {
    id,
    department_id: 7,
    department_name: '市市场监督管理局',
    window_id: null,
    window_name: `${id}号窗口`,
    person_id: null,
    person_name: '张三',
    category_id: 1,
    category_name: '服务态度',
    severity: 'general',
    state,
    description: `问题 ${id} 的情况`,
    occurred_at,
    created_at: occurred_at,
    counts: true,
  }
}
// The server sorts by occurred_at as asked; the picker keeps that order.
const FINDINGS = [finding(11, '2026-12-01T02:00:00Z'), finding(12, '2026-12-02T02:00:00Z', 'notified'), finding(13, '2026-12-03T02:00:00Z')]

function detailOf(b: ReturnType<typeof bulletin>, findings: ReturnType<typeof finding>[] = []) {
  return offered({ ...b, findings, orders: [], instructions: [] })
}

function office() {
  on('GET', '/api/v1/bulletins', () => [200, page([DRAFT, PUBLISHED].map(offered))])
  on('GET', '/api/v1/settings/rectification-policy', () => [200, { default_working_days: 7, remind_working_days_before: [1], resubmit_working_days: 5, masthead: '市效能办', issuer: '市效能办' }])
  on('GET', '/api/v1/findings', () => [200, page(FINDINGS)])
  on('GET', '/api/v1/bulletins/3', () => [200, detailOf(PUBLISHED, [FINDINGS[1]])])
  on('POST', '/api/v1/bulletins', (c) => [201, detailOf(bulletin(9, { ...c.body }))])
}

// ---- mounting ----------------------------------------------------------------------------------------
let pinia: Pinia
let router: Router
let mounted: VueWrapper[] = []

function signIn(permissions: string[]) {
  const auth = useAuthStore()
  auth.me = { id: 1, username: 'u', display_name: 'U', roles: [], permissions, scopes: {}, must_change_password: false } as never
  auth.checked = true
}

async function show() {
  router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/bulletins', name: 'bulletins', component: BulletinsView },
      { path: '/bulletins/:id', name: 'bulletin', component: { render: () => null } },
    ],
  })
  await router.push('/bulletins')
  const w = mount(BulletinsView, { attachTo: document.body, global: { plugins: [pinia, i18n, router] } })
  mounted.push(w)
  await flushPromises()
  return w
}

/** Where teleported content (the drawer) ends up. */
function $(selector: string): HTMLElement | null {
  return document.body.querySelector(selector)
}
async function click(selector: string) {
  const el = $(selector)
  if (!el) throw new Error('nothing matches ' + selector)
  el.click()
  await flushPromises()
}
async function type(selector: string, value: string) {
  const el = $(`${selector} input, ${selector} textarea, input${selector}, textarea${selector}`) as HTMLInputElement | null
  if (!el) throw new Error('no input for ' + selector)
  el.value = value
  el.dispatchEvent(new Event('input'))
  await flushPromises()
}
async function tick(id: number) {
  const box = $(`[data-test="bulletin-pick-${id}"] input`) as HTMLInputElement | null
  if (!box) throw new Error('no checkbox for finding ' + id)
  box.click()
  await flushPromises()
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

// ---- the list ----------------------------------------------------------------------------------------
describe('the bulletin list', () => {
  it('shows the office its drafts and published bulletins, with what it may do to each', async () => {
    signIn(['rectification:manage', 'rectification:read', 'bulletin:read'])
    office()
    const w = await show()
    const list = calls.find((c) => c.path === '/api/v1/bulletins')!
    expect(list.query.get('page')).toBe('1')
    expect(list.query.get('page_size')).toBe('20')
    expect(list.query.has('status')).toBe(false)

    const text = w.get('[data-test="bulletins-table"]').text()
    expect(text).toContain('效能通报〔2026〕7号')
    expect(text).toContain('关于11月明察暗访情况的通报')
    expect(text).toContain('公开通报')
    expect(text).toContain('内部通报')
    expect(text).toContain('（未编号）')
    expect(w.get('[data-test="bulletin-status-3"]').text()).toBe('已发布')
    expect(w.get('[data-test="bulletin-status-4"]').text()).toBe('草稿')
    expect(w.find('[data-test="bulletin-new"]').exists()).toBe(true)
    expect(w.find('[data-test="bulletins-status"]').exists()).toBe(true)
    // Edit a draft, correct a published one; never the other way round.
    expect(w.find('[data-test="bulletin-edit-4"]').exists()).toBe(true)
    expect(w.find('[data-test="bulletin-correct-3"]').exists()).toBe(true)
    expect(w.find('[data-test="bulletin-edit-3"]').exists()).toBe(false)
    expect(w.find('[data-test="bulletin-correct-4"]').exists()).toBe(false)
  })

  it('sends the search to the server', async () => {
    signIn(['rectification:manage', 'bulletin:read'])
    office()
    const w = await show()
    calls = []
    await w.get('input[data-test="bulletins-q"]').setValue('窗口')
    await w.get('form.toolbar').trigger('submit')
    await flushPromises()
    const list = calls.find((c) => c.path === '/api/v1/bulletins')!
    expect(list.query.get('q')).toBe('窗口')
    expect(list.query.get('page')).toBe('1')
  })

  it('gives a reader the published list only, and nothing to compose', async () => {
    signIn(['bulletin:read'])
    on('GET', '/api/v1/bulletins', () => [200, page([PUBLISHED].map(offered))])
    const w = await show()
    expect(w.text()).toContain('效能通报〔2026〕7号')
    expect(w.find('[data-test="bulletin-new"]').exists()).toBe(false)
    expect(w.find('[data-test="bulletins-status"]').exists()).toBe(false)
    expect(w.find('[data-test="bulletin-correct-3"]').exists()).toBe(false)
  })

  it('says so in Chinese when there is nothing', async () => {
    signIn(['bulletin:read'])
    on('GET', '/api/v1/bulletins', () => [200, page([])])
    const w = await show()
    expect(w.text()).toContain('暂无通报')
  })
})

// ---- composing ---------------------------------------------------------------------------------------
describe('composing a bulletin', () => {
  async function openNew() {
    signIn(['rectification:manage', 'rectification:read', 'bulletin:read'])
    office()
    const w = await show()
    await w.get('[data-test="bulletin-new"]').trigger('click')
    await flushPromises()
    return w
  }

  it('starts from sensible defaults and lists the findings of the period', async () => {
    await openNew()
    expect(($('textarea[data-test="bulletin-requirement"]') as HTMLTextAreaElement).value).toBe('请认真分析原因，逐项整改，并于期限前将整改情况书面报送市效能办。')
    expect(($('textarea[data-test="bulletin-body"]') as HTMLTextAreaElement).value.startsWith('各部门：')).toBe(true)
    // The office's default number of working days.
    expect(($('[data-test="bulletin-days"] input') as HTMLInputElement).value).toBe('7')
    expect(($('[data-test="bulletin-mask"] input') as HTMLInputElement).checked).toBe(true)

    const f = calls.find((c) => c.path === '/api/v1/findings')!
    expect(f.query.get('state')).toBe('confirmed,notified,appealed,upheld')
    expect(f.query.get('page_size')).toBe('200')
    expect(f.query.get('from')).toMatch(/^\d{4}-\d{2}-01T00:00:00\+08:00$/)
    expect(f.query.get('to')).toMatch(/T00:00:00\+08:00$/)
    expect($('[data-test="bulletin-findings"]')?.textContent).toContain('问题 12 的情况')
    expect($('[data-test="bulletin-selected-count"]')?.textContent).toBe('已选 0 项')
  })

  it('saves a draft with the findings ticked, in the listed order, and opens it', async () => {
    await openNew()
    await type('[data-test="bulletin-title"]', '  关于12月明察暗访情况的通报 ')
    await tick(13)
    await tick(11)
    expect($('[data-test="bulletin-selected-count"]')?.textContent).toBe('已选 2 项')
    await click('[data-test="bulletin-save"]')

    const post = calls.find((c) => c.method === 'POST')!
    expect(post.path).toBe('/api/v1/bulletins')
    expect(post.body).toMatchObject({
      scope: 'internal',
      title: '关于12月明察暗访情况的通报',
      mask_names: true,
      corrects_id: null,
      finding_ids: [11, 13],
      requirement: '请认真分析原因，逐项整改，并于期限前将整改情况书面报送市效能办。',
      deadline: { kind: 'working_days', days: 7 },
    })
    expect(post.body.period_start <= post.body.period_end).toBe(true)
    expect(ui.success).toHaveBeenCalledWith('草稿已保存')
    expect(router.currentRoute.value.fullPath).toBe('/bulletins/9')
  })

  it('shows the server’s field errors next to their fields', async () => {
    await openNew()
    on('POST', '/api/v1/bulletins', () => [
      422,
      {
        code: 'validation_failed',
        message: '提交的内容有误',
        details: [
          { field: 'title', code: 'required', message: '请填写标题' },
          { field: 'deadline', code: 'in_the_past', message: '整改期限 2026-01-01 已过' },
        ],
      },
    ])
    await click('[data-test="bulletin-save"]')
    // Element Plus shows a field's error a moment after it is set.
    await new Promise((resolve) => setTimeout(resolve, 200))
    await flushPromises()
    const failed = [...document.body.querySelectorAll('.el-form-item.is-error')]
    expect(failed.find((el) => el.querySelector('input[data-test="bulletin-title"]'))?.textContent).toContain('请填写标题')
    expect(failed.find((el) => el.querySelector('[data-test="bulletin-deadline-kind"]'))?.textContent).toContain('整改期限 2026-01-01 已过')
    expect(ui.error).not.toHaveBeenCalled()
    expect(router.currentRoute.value.fullPath).toBe('/bulletins')
  })

  it('shows the server’s message when it refuses outright', async () => {
    await openNew()
    on('POST', '/api/v1/bulletins', () => [403, { code: 'forbidden', message: '没有权限执行此操作', details: null }])
    await click('[data-test="bulletin-save"]')
    expect(ui.error).toHaveBeenCalledWith('没有权限执行此操作')
  })

  it('drafts a correction of a published bulletin from its content', async () => {
    signIn(['rectification:manage', 'rectification:read', 'bulletin:read'])
    office()
    const w = await show()
    await w.get('[data-test="bulletin-correct-3"]').trigger('click')
    await flushPromises()
    expect($('[data-test="bulletin-correcting"]')?.textContent).toContain('效能通报〔2026〕7号')
    expect(($('input[data-test="bulletin-title"]') as HTMLInputElement).value).toBe('关于11月明察暗访情况的通报')
    // The original's finding stays listed (and ticked) though it lies outside the current period.
    expect(($('[data-test="bulletin-pick-12"] input') as HTMLInputElement).checked).toBe(true)
    await click('[data-test="bulletin-save"]')
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.body).toMatchObject({ corrects_id: 3, scope: 'public', finding_ids: [12], period_start: '2026-11-01', period_end: '2026-11-30' })
    // A date set for the original is not carried over: the office's default applies.
    expect(post.body.deadline).toEqual({ kind: 'working_days', days: 7 })
  })

  it('opens a draft for editing from its page (?edit=) and saves it in place', async () => {
    signIn(['rectification:manage', 'rectification:read', 'bulletin:read'])
    office()
    on('GET', '/api/v1/bulletins/4', () => [200, detailOf(DRAFT, [FINDINGS[0]])])
    on('PUT', '/api/v1/bulletins/4', (c) => [200, detailOf(bulletin(4, { ...c.body }))])
    router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/bulletins', name: 'bulletins', component: BulletinsView },
        { path: '/bulletins/:id', name: 'bulletin', component: { render: () => null } },
      ],
    })
    await router.push('/bulletins?edit=4')
    mounted.push(mount(BulletinsView, { attachTo: document.body, global: { plugins: [pinia, i18n, router] } }))
    await flushPromises()
    expect(($('input[data-test="bulletin-title"]') as HTMLInputElement).value).toBe('十二月通报（草稿）')
    await click('[data-test="bulletin-save"]')
    const put = calls.find((c) => c.method === 'PUT')!
    expect(put.path).toBe('/api/v1/bulletins/4')
    expect(put.body.finding_ids).toEqual([11])
    expect(router.currentRoute.value.fullPath).toBe('/bulletins/4')
  })
})

// ---- the bulletin's page -----------------------------------------------------------------------------
describe('the bulletin page', () => {
  async function showDetail(id: number) {
    const { default: BulletinDetailView } = await import('@/views/rectification/BulletinDetailView.vue')
    router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/bulletins', name: 'bulletins', component: { render: () => null } },
        { path: '/bulletins/:id', name: 'bulletin', component: BulletinDetailView },
        { path: '/rectification/:id', name: 'order', component: { render: () => null } },
      ],
    })
    await router.push(`/bulletins/${id}`)
    const w = mount(BulletinDetailView, { attachTo: document.body, global: { plugins: [pinia, i18n, router] } })
    mounted.push(w)
    await flushPromises()
    return w
  }

  it('publishes a draft only after an explicit, informed yes', async () => {
    signIn(['rectification:manage', 'rectification:read', 'bulletin:read'])
    office()
    const draft = detailOf(bulletin(4, { title: '十二月通报', finding_count: 2 }), [FINDINGS[0], FINDINGS[2]])
    on('GET', '/api/v1/bulletins/4', () => [200, draft])
    on('POST', '/api/v1/bulletins/4/publish', () => [200, offered({ ...draft, status: 'published', year: 2026, number: 8, number_text: '效能通报〔2026〕8号', published_at: '2026-12-05T02:00:00Z' })])
    const w = await showDetail(4)
    expect(w.get('[data-test="bulletin-document"]').text()).toContain('效能通报〔草稿〕')
    expect(w.get('[data-test="bulletin-findings"]').text()).toContain('问题 13 的情况')
    expect(w.get('[data-test="bulletin-preview-docx"]').attributes('href')).toBe('/api/v1/bulletins/4/document?format=docx')

    await w.get('[data-test="bulletin-publish"]').trigger('click')
    await flushPromises()
    expect($('[data-test="bulletin-publish-dialog"]')?.textContent).toContain('发布后不能撤回')
    const confirm = $('[data-test="bulletin-publish-confirm"]') as HTMLButtonElement
    expect(confirm.disabled).toBe(true)
    await click('[data-test="bulletin-publish-check"] input')
    expect(($('[data-test="bulletin-publish-confirm"]') as HTMLButtonElement).disabled).toBe(false)
    await click('[data-test="bulletin-publish-confirm"]')
    expect(calls.some((c) => c.method === 'POST' && c.path === '/api/v1/bulletins/4/publish')).toBe(true)
    expect(w.get('[data-test="bulletin-number"]').text()).toBe('效能通报〔2026〕8号')
    expect(w.find('[data-test="bulletin-download-pdf"]').attributes('href')).toBe('/api/v1/bulletins/4/document?format=pdf')
    expect(w.find('[data-test="bulletin-draft-banner"]').exists()).toBe(false)
  })

  it('lets a city leader write an instruction, and shows the server’s word on a follow-up refused', async () => {
    signIn(['bulletin:read', 'instruction:write', 'rectification:read', 'rectification:manage'])
    const instruction = {
      id: 21, author_name: '王市长', created_at: '2026-12-06T01:00:00Z', follow_up: true, follow_up_department_id: null, follow_up_department_name: null,
      follow_up_due: '2999-12-31', follow_up_note: '', follow_up_status: 'open', follow_up_done_at: null, can_complete: true, target_id: 3, target_kind: 'bulletin', text: '请抓好整改落实。',
    }
    on('GET', '/api/v1/bulletins/3', () => [200, { ...detailOf(PUBLISHED, [FINDINGS[1]]), instructions: [instruction], orders: [{ id: 31, department_name: '市市场监督管理局', deadline: '2026-12-20', status: 'open', overdue: false, finding_count: 1 }] }])
    on('POST', '/api/v1/instructions', (c) => [201, { ...instruction, id: 22, text: c.body.text, follow_up: false, follow_up_status: null, follow_up_due: null }])
    on('POST', '/api/v1/instructions/21/follow-up', () => [404, { code: 'not_found', message: '记录不存在', details: null }])
    const w = await showDetail(3)
    expect(w.get('[data-test="instruction-21"]').text()).toContain('请抓好整改落实。')
    expect(w.get('[data-test="bulletin-orders"]').text()).toContain('市市场监督管理局')
    expect(w.get('[data-test="bulletin-public-link"]').text()).toContain('/public/bulletins/2026/7')

    await w.get('textarea[data-test="instruction-text"]').setValue('各部门要举一反三。')
    await w.get('[data-test="instruction-form"]').trigger('submit')
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST' && c.path === '/api/v1/instructions')!
    expect(post.body).toEqual({ target_kind: 'bulletin', target_id: 3, text: '各部门要举一反三。', follow_up: null })
    expect(w.get('[data-test="instruction-22"]').text()).toContain('各部门要举一反三。')

    ui.prompt.mockResolvedValue({ value: '  已部署  ' })
    await w.get('[data-test="instruction-done-21"]').trigger('click')
    await flushPromises()
    expect(calls.find((c) => c.path === '/api/v1/instructions/21/follow-up')?.body).toEqual({ note: '已部署' })
    expect(ui.error).toHaveBeenCalledWith('记录不存在')
  })
})
