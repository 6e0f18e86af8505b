// Filling in a self-check, mounted against a stand-in server: answers are saved item by item in
// checklist order, the head submits (after confirming) and hears the server when something is
// missing, and a submitted self-check is read-only.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { h } from 'vue'
import { createMemoryHistory, createRouter, RouterView, type Router } from 'vue-router'
import { i18n } from '@/locales'
import ParticipationView from '@/views/campaigns/ParticipationView.vue'

const ui = vi.hoisted(() => ({ confirm: vi.fn(), success: vi.fn(), error: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => {
  const original = await importOriginal<typeof import('element-plus')>()
  return {
    ...original,
    ElMessageBox: { confirm: ui.confirm },
    ElMessage: Object.assign(vi.fn(), { success: ui.success, error: ui.error, warning: vi.fn(), info: vi.fn() }),
  }
})

interface Call {
  method: string
  path: string
  body: any
}
let calls: Call[] = []
let reply: (c: Call) => [number, unknown] = () => [404, { code: 'not_found', message: 'not found', details: null }]

function serve() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const url = new URL(req.url)
      const text = req.method === 'GET' ? '' : await req.text()
      const c: Call = { method: req.method, path: url.pathname, body: text ? JSON.parse(text) : undefined }
      calls.push(c)
      const [status, body] = reply(c)
      return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
    }),
  )
}

const ITEMS = [
  { id: 11, title: '查思想观念，看服务意识是否牢固', guidance: '是否存在“门难进、脸难看、话难听、事难办”的现象' },
  { id: 12, title: '查工作作风，看是否推诿扯皮', guidance: '' },
]

function participation(over: Record<string, unknown> = {}, answers: unknown[] = []) {
  return {
    campaign: { id: 2, title: '机关效能“回头看”活动', description: '逐项自查。', period_start: '2026-11-01', period_end: '2026-11-21', status: 'open', participant_count: 3, submitted_count: 0, created_at: '2026-11-01T00:00:00Z', opened_at: '2026-11-01T01:00:00Z' },
    participant: { id: 4, kind: 'department', department_id: 7, department_name: '市市场监督管理局', person_id: null, person_name: null, status: 'pending', answered: 0, problems: 0, submitted_at: null },
    items: ITEMS,
    answers,
    allowed_actions: ['answer', 'submit'],
    ...over,
  }
}

let wrapper: VueWrapper | undefined
let router: Router

/** The page as the app shows it: inside a router view (its leave guard needs one). */
async function show() {
  router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/campaigns/participations/:id', name: 'participation', component: ParticipationView },
      { path: '/campaigns/:id', name: 'campaign', component: { render: () => null } },
    ],
  })
  await router.push('/campaigns/participations/4')
  wrapper = mount({ render: () => h(RouterView) }, { attachTo: document.body, global: { plugins: [createPinia(), i18n, router] } })
  await flushPromises()
  return wrapper
}

/** Element Plus puts the attributes of a textarea input on the textarea itself. */
async function type(w: VueWrapper, selector: string, value: string) {
  await w.find(`textarea${selector}`).setValue(value)
}

beforeEach(() => {
  setActivePinia(createPinia())
  i18n.global.locale.value = 'zh-CN'
  calls = []
  for (const f of Object.values(ui)) f.mockReset()
  serve()
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
  document.body.innerHTML = ''
  vi.unstubAllGlobals()
})

describe('a self-check', () => {
  it('shows each item with its guidance and saves the answers in checklist order', async () => {
    reply = (c) => {
      if (c.method === 'PUT') {
        const answers = c.body.answers.map((a: any) => ({ ...a, updated_at: '2026-11-03T02:00:00Z' }))
        return [200, participation({}, answers)]
      }
      return [200, participation({}, [{ item_id: 12, found: '', measures: '', due: null, updated_at: '2026-11-02T00:00:00Z' }])]
    }
    const w = await show()
    expect(w.text()).toContain('查思想观念，看服务意识是否牢固')
    expect(w.text()).toContain('门难进、脸难看')
    expect(w.text()).toContain('已填 0/2 项')

    await type(w, '[data-test="answer-found-0"]', '个别窗口人员服务态度生硬')
    await type(w, '[data-test="answer-measures-0"]', '开展服务礼仪培训')
    await w.find('[data-test="answer-none-1"]').trigger('click')
    expect(w.text()).toContain('已填 2/2 项')

    await w.find('[data-test="save-answers"]').trigger('click')
    await flushPromises()
    const put = calls.find((c) => c.method === 'PUT')!
    expect(put.path).toBe('/api/v1/campaign-participations/4/answers')
    expect(put.body).toEqual({
      answers: [
        { item_id: 11, found: '个别窗口人员服务态度生硬', measures: '开展服务礼仪培训', due: null },
        { item_id: 12, found: '无', measures: '', due: null },
      ],
    })
    expect(ui.success).toHaveBeenCalledWith('已保存')
  })

  it('submits after the head confirms, saving unsaved answers first, then is read-only', async () => {
    ui.confirm.mockResolvedValue('confirm')
    const answered = [
      { item_id: 11, found: '无', measures: '', due: null, updated_at: '2026-11-03T02:00:00Z' },
      { item_id: 12, found: '无', measures: '', due: null, updated_at: '2026-11-03T02:00:00Z' },
    ]
    reply = (c) => {
      if (c.method === 'PUT') return [200, participation({}, answered)]
      if (c.method === 'POST') {
        const submitted = { ...participation().participant, status: 'submitted', answered: 2, submitted_at: '2026-11-03T02:05:00Z' }
        return [200, participation({ participant: submitted, allowed_actions: [] }, answered)]
      }
      return [200, participation({}, answered.slice(0, 1))]
    }
    const w = await show()
    await type(w, '[data-test="answer-found-1"]', '无')
    await w.find('[data-test="submit-self-check"]').trigger('click')
    await flushPromises()

    expect(ui.confirm).toHaveBeenCalledTimes(1)
    expect(calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`)).toEqual([
      'PUT /api/v1/campaign-participations/4/answers',
      'POST /api/v1/campaign-participations/4/submit',
    ])
    expect(ui.success).toHaveBeenCalledWith('自查已提交')
    expect(w.find('[data-test="participation-status"]').text()).toBe('已提交')
    expect(w.find('[data-test="participation-readonly"]').text()).toContain('不能再修改')
    expect(w.find('[data-test="answer-found-0"]').exists()).toBe(false)
    expect(w.find('[data-test="save-answers"]').exists()).toBe(false)
    expect(w.find('[data-test="submit-self-check"]').exists()).toBe(false)
    expect(w.find('[data-test="answer-view-0"]').text()).toContain('无')
  })

  it('submits nothing when the head does not confirm', async () => {
    ui.confirm.mockRejectedValue('cancel')
    reply = () => [200, participation()]
    const w = await show()
    await w.find('[data-test="submit-self-check"]').trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c.method !== 'GET')).toHaveLength(0)
  })

  it('shows the server’s message and marks the item when the self-check is incomplete', async () => {
    ui.confirm.mockResolvedValue('confirm')
    const message = '“查工作作风，看是否推诿扯皮”尚未填写自查情况'
    reply = (c) => {
      if (c.method === 'POST') return [422, { code: 'validation_failed', message, details: [{ field: 'answers', code: 'incomplete', message }] }]
      return [200, participation({}, [{ item_id: 11, found: '无', measures: '', due: null, updated_at: '2026-11-03T02:00:00Z' }])]
    }
    const w = await show()
    await w.find('[data-test="submit-self-check"]').trigger('click')
    await flushPromises()

    expect(ui.error).toHaveBeenCalledWith(message)
    expect(w.find('[data-test="submit-error"]').text()).toContain(message)
    expect(w.find('[data-test="answer-item-1"]').classes()).toContain('missing')
    expect(w.find('[data-test="answer-item-0"]').classes()).not.toContain('missing')
    // Still open for answers.
    expect(w.find('[data-test="answer-found-1"]').exists()).toBe(true)
  })

  it('lets the liaison save but leaves submitting to the head', async () => {
    reply = () => [200, participation({ allowed_actions: ['answer'] })]
    const w = await show()
    expect(w.find('[data-test="save-answers"]').exists()).toBe(true)
    expect(w.find('[data-test="submit-self-check"]').exists()).toBe(false)
    expect(w.text()).toContain('由部门负责人确认提交')
  })

  it('shows the server’s message when saving is refused because it was submitted meanwhile', async () => {
    const message = '自查已提交，不能修改'
    let submitted = false
    reply = (c) => {
      if (c.method === 'PUT') {
        submitted = true
        return [409, { code: 'already_submitted', message, details: null }]
      }
      if (!submitted) return [200, participation()]
      const p = { ...participation().participant, status: 'submitted', submitted_at: '2026-11-03T02:05:00Z' }
      return [200, participation({ participant: p, allowed_actions: [] })]
    }
    const w = await show()
    await type(w, '[data-test="answer-found-0"]', '无')
    await w.find('[data-test="save-answers"]').trigger('click')
    await flushPromises()
    expect(ui.error).toHaveBeenCalledWith(message)
    expect(w.find('[data-test="participation-status"]').text()).toBe('已提交')
    expect(w.find('[data-test="save-answers"]').exists()).toBe(false)
  })

  it('asks before leaving with answers not saved', async () => {
    reply = () => [200, participation()]
    const w = await show()
    await type(w, '[data-test="answer-found-0"]', '窗口人员脱岗')
    ui.confirm.mockRejectedValueOnce('cancel')
    await router.push('/campaigns/2')
    expect(ui.confirm).toHaveBeenCalledTimes(1)
    expect(router.currentRoute.value.fullPath).toBe('/campaigns/participations/4')
    ui.confirm.mockResolvedValueOnce('confirm')
    await router.push('/campaigns/2')
    expect(router.currentRoute.value.fullPath).toBe('/campaigns/2')
  })

  it('shows the server’s message when the self-check cannot be read', async () => {
    reply = () => [404, { code: 'not_found', message: '记录不存在', details: null }]
    const w = await show()
    expect(w.find('[data-test="participation-error"]').text()).toContain('记录不存在')
  })
})
