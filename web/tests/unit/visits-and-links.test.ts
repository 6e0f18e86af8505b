// The pages that record what became of a visit (the office's plan drawer, the inspector's phone
// page) and the account form's links to a person or an external supervisor, mounted against a
// stand-in server.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { i18n } from '@/locales'
import { useAuthStore } from '@/stores/auth'

const ui = vi.hoisted(() => ({
  prompt: vi.fn(),
  confirm: vi.fn(),
  success: vi.fn(),
  error: vi.fn(),
}))
vi.mock('element-plus', async (importOriginal) => {
  const original = await importOriginal<typeof import('element-plus')>()
  return {
    ...original,
    ElMessageBox: { prompt: ui.prompt, confirm: ui.confirm },
    ElMessage: Object.assign(vi.fn(), { success: ui.success, error: ui.error, warning: vi.fn(), info: vi.fn() }),
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
  handlers.push((c) => (c.method === method && (typeof path === 'string' ? c.path === path : path.test(c.path)) ? reply(c) : undefined))
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
      return new Response(JSON.stringify({ code: 'not_found', message: 'not found: ' + c.path, details: null }), { status: 404 })
    }),
  )
}

function page<T>(items: T[]) {
  return { items, total: items.length, page: 1, page_size: 20 }
}

function cityDay(offset: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(Date.now() + offset * 86_400_000))
}
const TODAY = cityDay(0)

let pinia: Pinia
let mounted: VueWrapper[] = []

function signIn(permissions: string[], id = 9) {
  const auth = useAuthStore()
  auth.me = { id, username: 'u', display_name: 'U', roles: [], permissions, scopes: {}, must_change_password: false } as never
  auth.checked = true
}

async function show(component: object, query: Record<string, string> = {}) {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:any(.*)*', name: 'record-finding', component: { render: () => null } }] })
  await router.push({ path: '/x', query })
  const w = mount(component, { attachTo: document.body, global: { plugins: [pinia, i18n, router] } })
  mounted.push(w)
  await flushPromises()
  return w
}

/** Where teleported content (dialogs, drawers) ends up. */
function $(selector: string): HTMLElement | null {
  return document.body.querySelector(selector)
}
async function click(selector: string) {
  const el = $(selector)
  if (!el) throw new Error('nothing matches ' + selector)
  el.click()
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

// ---- visits ----------------------------------------------------------------------------------------
/** What the server offers the office on a visit of an open plan. */
function officeActions(status: string, scheduled_on: string): string[] {
  if (status === 'cancelled') return ['note', 'reopen']
  if (status === 'done') return ['note', 'reopen', 'record']
  return scheduled_on <= TODAY ? ['note', 'mark_done', 'cancel', 'record'] : ['note', 'cancel', 'record']
}
function visit(id: number, scheduled_on: string, status: string, notes = '') {
  return { id, department_id: 7, department_name: '市市场监督管理局', window_id: null, scheduled_on, notes, status, allowed_actions: officeActions(status, scheduled_on) }
}
const VISITS = [
  visit(1, TODAY, 'scheduled', '上午到场'),
  visit(2, cityDay(3), 'scheduled'),
  visit(3, cityDay(-2), 'done', '窗口秩序良好，未发现问题。'),
  visit(4, cityDay(-1), 'cancelled', '部门搬迁'),
]
function plan(status = 'active', visits = VISITS) {
  if (status === 'closed') visits = visits.map((v) => ({ ...v, allowed_actions: [] }))
  return {
    id: 5,
    title: '端到端暗访计划',
    period_start: cityDay(-7),
    period_end: cityDay(7),
    status,
    notes: '',
    targets: [{ department_id: 7, window_id: null }],
    team: [{ user_id: 9, display_name: '暗访人员' }],
    visits,
    allowed_actions: status === 'closed' ? [] : ['edit', 'close', 'schedule'],
  }
}
function planServer(detail = plan()) {
  on('GET', '/api/v1/plans', () => [200, page([detail])])
  on('GET', '/api/v1/plans/5', () => [200, detail])
  on('GET', '/api/v1/departments/tree', () => [200, [{ id: 7, name: '市市场监督管理局', status: 'active' }]])
  on('GET', '/api/v1/windows', () => [200, page([])])
  on('GET', '/api/v1/inspectors', () => [200, []])
  on('GET', '/api/v1/finding-categories', () => [200, []])
  on('GET', '/api/v1/findings', () => [200, page([])])
}
function answerVisitUpdate() {
  on('PUT', /^\/api\/v1\/visits\/\d+$/, (c) => {
    const id = Number(c.path.split('/').pop())
    const before = VISITS.find((v) => v.id === id)!
    return [200, { ...before, status: c.body.status, notes: c.body.notes, allowed_actions: officeActions(c.body.status, before.scheduled_on) }]
  })
}
function puts() {
  return calls.filter((c) => c.method === 'PUT')
}

describe('the office’s plan drawer', () => {
  async function openDrawer(status = 'active') {
    signIn(['inspection:manage', 'inspection:record', 'org:read'])
    planServer(plan(status))
    answerVisitUpdate()
    const { default: PlansView } = await import('@/views/inspections/PlansView.vue')
    await show(PlansView)
    await click('[data-test="plans-open-5"]')
  }

  it('shows each visit’s status and notes, and the actions each status allows', async () => {
    await openDrawer()
    expect($('[data-test="plans-visit-status-1"]')?.textContent).toBe('已安排')
    expect($('[data-test="plans-visit-status-3"]')?.textContent).toBe('已完成')
    expect($('[data-test="plans-visit-status-4"]')?.textContent).toBe('已取消')
    expect($('[data-test="plans-visit-notes-4"]')?.textContent).toBe('部门搬迁')
    // Today's scheduled visit: done or cancelled. A future one cannot be done yet.
    expect($('[data-test="plans-visit-done-1"]')).not.toBeNull()
    expect($('[data-test="plans-visit-cancel-1"]')).not.toBeNull()
    expect($('[data-test="plans-visit-done-2"]')).toBeNull()
    expect($('[data-test="plans-visit-cancel-2"]')).not.toBeNull()
    // Done or cancelled: back to scheduled.
    expect($('[data-test="plans-visit-reopen-3"]')).not.toBeNull()
    expect($('[data-test="plans-visit-reopen-4"]')).not.toBeNull()
    expect($('[data-test="plans-visit-reopen-1"]')).toBeNull()
  })

  it('offers nothing to change once the plan is closed', async () => {
    await openDrawer('closed')
    expect($('[data-test="plans-visit-status-1"]')).not.toBeNull()
    expect(document.body.querySelectorAll('[data-test^="plans-visit-done-"], [data-test^="plans-visit-cancel-"], [data-test^="plans-visit-reopen-"]')).toHaveLength(0)
  })

  it('cancels with a reason the prompt requires', async () => {
    await openDrawer()
    ui.prompt.mockResolvedValue({ value: '  部门临时停业  ' })
    await click('[data-test="plans-visit-cancel-2"]')
    const [, , options] = ui.prompt.mock.calls[0]
    expect(options.inputValidator('  ')).toBe('请填写原因')
    expect(options.inputValidator('停业')).toBe(true)
    expect(puts()).toEqual([expect.objectContaining({ path: '/api/v1/visits/2', body: { status: 'cancelled', notes: '部门临时停业', expected_state: 'scheduled' } })])
    expect($('[data-test="plans-visit-status-2"]')?.textContent).toBe('已取消')
    expect($('[data-test="plans-visit-reopen-2"]')).not.toBeNull()
  })

  it('marks done with optional notes, starting from the visit’s own', async () => {
    await openDrawer()
    ui.prompt.mockResolvedValue({ value: '' })
    await click('[data-test="plans-visit-done-1"]')
    const [, , options] = ui.prompt.mock.calls[0]
    expect(options.inputValue).toBe('上午到场')
    expect(options.inputValidator('')).toBe(true)
    expect(puts()[0].body).toEqual({ status: 'done', notes: '', expected_state: 'scheduled' })
    expect($('[data-test="plans-visit-status-1"]')?.textContent).toBe('已完成')
  })

  it('reopens, keeping the notes', async () => {
    await openDrawer()
    ui.confirm.mockResolvedValue('confirm')
    await click('[data-test="plans-visit-reopen-4"]')
    expect(puts()[0]).toMatchObject({ path: '/api/v1/visits/4', body: { status: 'scheduled', notes: '部门搬迁', expected_state: 'cancelled' } })
    expect($('[data-test="plans-visit-status-4"]')?.textContent).toBe('已安排')
  })

  it('sends nothing when the prompt is dismissed, and shows the server’s refusal', async () => {
    await openDrawer()
    ui.prompt.mockRejectedValueOnce('cancel')
    await click('[data-test="plans-visit-cancel-1"]')
    expect(puts()).toHaveLength(0)

    handlers.unshift((c) => (c.method === 'PUT' ? [409, { code: 'invalid_transition', message: '该暗访计划已结束', details: { state: 'scheduled', action: 'mark_done', reason: 'plan_closed' } }] : undefined))
    ui.prompt.mockResolvedValueOnce({ value: '' })
    await click('[data-test="plans-visit-done-1"]')
    expect(ui.error).toHaveBeenCalledWith('该暗访计划已结束')
    expect($('[data-test="plans-visit-status-1"]')?.textContent).toBe('已安排')
  })
})

describe('the inspector’s phone page', () => {
  async function openPlan(status = 'active') {
    signIn(['inspection:record'])
    planServer(plan(status))
    answerVisitUpdate()
    const { default: RecordView } = await import('@/views/inspections/RecordView.vue')
    return show(RecordView, { plan: '5' })
  }

  it('shows each visit’s status; nothing-found only for a scheduled visit whose day has come', async () => {
    await openPlan()
    expect($('[data-test="record-status-1"]')?.textContent).toBe('已安排')
    expect($('[data-test="record-status-3"]')?.textContent).toBe('已完成')
    expect($('[data-test="record-status-4"]')?.textContent).toBe('已取消')
    expect($('[data-test="record-nothing-found-1"]')).not.toBeNull()
    expect($('[data-test="record-nothing-found-2"]')).toBeNull() // in three days
    expect($('[data-test="record-nothing-found-3"]')).toBeNull() // done
    expect($('[data-test="record-nothing-found-4"]')).toBeNull() // cancelled
    // A cancelled visit cannot be chosen; a done one still can.
    expect(($('[data-test="record-visit-4"]') as HTMLButtonElement).disabled).toBe(true)
    expect(($('[data-test="record-visit-3"]') as HTMLButtonElement).disabled).toBe(false)
    // The first visit offered is today's.
    expect(document.body.querySelector('[data-test^="record-visit-"]')?.getAttribute('data-test')).toBe('record-visit-1')
  })

  it('marks a visit done with a default note the inspector may change', async () => {
    await openPlan()
    ui.prompt.mockImplementation(async (_m: string, _t: string, o: { inputValue: string }) => ({ value: o.inputValue }))
    await click('[data-test="record-nothing-found-1"]')
    expect(puts()).toEqual([expect.objectContaining({ path: '/api/v1/visits/1', body: { status: 'done', notes: '窗口秩序良好，未发现问题。', expected_state: 'scheduled' } })])
    expect($('[data-test="record-status-1"]')?.textContent).toBe('已完成')
    expect($('[data-test="record-nothing-found-1"]')).toBeNull()
    expect(ui.success).toHaveBeenCalled()
  })

  it('shows the server’s refusal', async () => {
    await openPlan()
    handlers.unshift((c) => (c.method === 'PUT' ? [422, { code: 'validation_failed', message: '暗访日期未到，不能标记为已完成', details: [{ field: 'status', code: 'not_yet', message: '暗访日期未到，不能标记为已完成' }] }] : undefined))
    ui.prompt.mockResolvedValue({ value: '未发现问题' })
    await click('[data-test="record-nothing-found-1"]')
    expect(ui.error).toHaveBeenCalledWith('暗访日期未到，不能标记为已完成')
    expect($('[data-test="record-status-1"]')?.textContent).toBe('已安排')
  })

  it('offers no outcome on a closed plan', async () => {
    await openPlan('closed')
    expect($('[data-test="record-status-1"]')).not.toBeNull()
    expect(document.body.querySelectorAll('[data-test^="record-nothing-found-"]')).toHaveLength(0)
  })
})

// ---- accounts --------------------------------------------------------------------------------------
describe('linking an account', () => {
  const USER = {
    id: 21,
    username: 'zhangwei',
    display_name: '张伟',
    department_id: 7,
    department_name: '市市场监督管理局',
    person_id: 101,
    person_name: '张伟',
    supervisor_id: 31,
    roles: [],
    status: 'active',
    must_change_password: false,
    created_at: '2026-01-01T00:00:00Z',
  }

  async function openUsers() {
    signIn(['user:read', 'user:write', 'org:read'])
    vi.stubGlobal('matchMedia', (query: string) => ({ matches: false, media: query, addEventListener() {}, removeEventListener() {} }))
    on('GET', '/api/v1/users', () => [200, page([USER])])
    on('GET', '/api/v1/departments/tree', () => [200, [{ id: 7, name: '市市场监督管理局', status: 'active' }, { id: 8, name: '市政务服务中心', status: 'active' }]])
    on('GET', '/api/v1/account-links', (c) =>
      c.query.get('kind') === 'person'
        ? [200, [{ id: 102, label: '李娜（P-002）', detail: '市政务服务中心' }]]
        : [200, [{ id: 31, label: '王芳（JD-031）', detail: '市人大 2026-01-01 — 2028-12-31' }, { id: 32, label: '赵强（JD-032）', detail: '某公司 2026-01-01 — 2027-12-31' }]],
    )
    on('PUT', '/api/v1/users/21', (c) => [200, { ...USER, ...c.body }])
    on('POST', '/api/v1/users', (c) => [201, { ...USER, id: 22, ...c.body }])
    const { default: UsersView } = await import('@/views/system/UsersView.vue')
    return show(UsersView)
  }
  function selects(w: VueWrapper) {
    const all = w.findAllComponents({ name: 'ElSelect' })
    const by = (id: string) => all.find((s) => s.attributes('data-test') === id || s.find(`[data-test="${id}"]`).exists())!
    return { person: by('users-person'), supervisor: by('users-supervisor') }
  }

  it('names the linked person and supervisor when editing, before any search', async () => {
    const w = await openUsers()
    await click('[data-test="users-edit-zhangwei"]')
    const { person, supervisor } = selects(w)
    expect(person.text()).toContain('张伟')
    expect(supervisor.text()).toContain('#31')
    expect(w.text() + document.body.textContent).toContain('任期')
  })

  it('searches each kind by what was typed, keeping the linked one named', async () => {
    const w = await openUsers()
    await click('[data-test="users-edit-zhangwei"]')
    const { person, supervisor } = selects(w)
    await (person.props('remoteMethod') as (q: string) => Promise<void>)(' 李 ')
    await flushPromises()
    const search = calls.filter((c) => c.path === '/api/v1/account-links')
    expect(search.map((c) => [c.query.get('kind'), c.query.get('q')])).toEqual([['person', '李']])
    await (supervisor.props('remoteMethod') as (q: string) => Promise<void>)('')
    await flushPromises()
    const last = calls.filter((c) => c.path === '/api/v1/account-links').at(-1)!
    expect(last.query.get('kind')).toBe('supervisor')
    expect(last.query.has('q')).toBe(false)
    // The supervisor's real name replaces "#31" once a search has found it.
    expect(supervisor.text()).toContain('王芳（JD-031）')
    expect(person.text()).toContain('张伟')
  })

  it('sends null for a cleared link and the chosen id otherwise', async () => {
    const w = await openUsers()
    await click('[data-test="users-edit-zhangwei"]')
    const { person, supervisor } = selects(w)
    person.vm.$emit('update:modelValue', undefined)
    supervisor.vm.$emit('update:modelValue', 32)
    await flushPromises()
    await click('[data-test="users-save"]')
    const put = calls.find((c) => c.method === 'PUT')!
    expect(put.body).toEqual({ display_name: '张伟', department_id: 7, person_id: null, supervisor_id: 32 })
  })

  it('takes the chosen person’s department when none is set, and shows the server’s field errors', async () => {
    const w = await openUsers()
    await click('[data-test="users-create"]')
    const { person } = selects(w)
    await (person.props('remoteMethod') as (q: string) => Promise<void>)('李')
    await flushPromises()
    person.vm.$emit('update:modelValue', 102)
    await flushPromises()
    handlers.unshift((c) =>
      c.method === 'POST'
        ? [422, { code: 'validation_failed', message: '该人员不属于所选部门', details: [{ field: 'person_id', code: 'person_not_in_department', message: '该人员不属于所选部门' }] }]
        : undefined,
    )
    await click('[data-test="users-save"]')
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.body).toMatchObject({ department_id: 8, person_id: 102, supervisor_id: null })
    // Element Plus shows a field's error a moment after it is set.
    await new Promise((resolve) => setTimeout(resolve, 200))
    await flushPromises()
    expect($('.el-form-item.is-error')?.textContent).toContain('该人员不属于所选部门')
    expect($('.el-form-item.is-error [data-test="users-person"]')).not.toBeNull()
  })
})
