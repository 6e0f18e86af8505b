// The inbox, mounted against a stand-in server: tasks first (overdue ones in red, a click goes to
// the page), then notifications, read one at a time or all at once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'
import { i18n } from '@/locales'
import InboxView from '@/views/inbox/InboxView.vue'

const ui = vi.hoisted(() => ({ success: vi.fn(), error: vi.fn() }))
vi.mock('element-plus', async (importOriginal) => {
  const original = await importOriginal<typeof import('element-plus')>()
  return { ...original, ElMessage: Object.assign(vi.fn(), { success: ui.success, error: ui.error, warning: vi.fn(), info: vi.fn() }) }
})

interface Call {
  method: string
  path: string
  query: URLSearchParams
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
      const c: Call = { method: req.method, path: url.pathname, query: url.searchParams, body: text ? JSON.parse(text) : undefined }
      calls.push(c)
      const [status, body] = reply(c)
      return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
    }),
  )
}

function cityDay(offset: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(Date.now() + offset * 86_400_000))
}

function note(id: number, read: boolean, link = '/rectification/5') {
  return { id, kind: 'order.issued', title: `消息 ${id}`, body: '请按期报送整改情况。', link, due: null, created_at: '2026-11-02T01:00:00Z', read }
}

const TASKS = [
  { kind: 'answer_order', title: '待报送整改情况：效能通报〔2026〕3号', link: '/rectification/7', due: cityDay(-2), overdue: true },
  { kind: 'self_check', title: '填报自查：机关效能“回头看”活动', link: '/campaigns/participations/4', due: cityDay(5), overdue: false },
]

function inbox(tasks = TASKS, notes = [note(1, false), note(2, true)]) {
  return { tasks, notifications: { items: notes, total: notes.length, page: 1, page_size: 20 }, unread: notes.filter((n) => !n.read).length }
}

let router: Router
let wrapper: VueWrapper | undefined

async function show() {
  router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:any(.*)*', component: { render: () => null } }] })
  await router.push('/inbox')
  wrapper = mount(InboxView, { attachTo: document.body, global: { plugins: [createPinia(), i18n, router] } })
  await flushPromises()
  return wrapper
}

beforeEach(() => {
  setActivePinia(createPinia())
  i18n.global.locale.value = 'zh-CN'
  calls = []
  ui.success.mockReset()
  ui.error.mockReset()
  serve()
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = undefined
  document.body.innerHTML = ''
  vi.unstubAllGlobals()
})

describe('the inbox', () => {
  it('lists the tasks first, overdue ones in red, and a click goes to their page', async () => {
    reply = () => [200, inbox()]
    const w = await show()
    const tasks = w.findAll('[data-test="inbox-task"]')
    expect(tasks).toHaveLength(2)
    expect(tasks[0].text()).toContain('效能通报〔2026〕3号')
    expect(tasks[0].text()).toContain('已逾期 2 天')
    expect(tasks[0].classes()).toContain('overdue')
    expect(tasks[1].classes()).not.toContain('overdue')
    expect(tasks[1].text()).toContain('还剩 5 天')
    expect(tasks[1].text()).toContain('填报自查')

    await tasks[1].trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.fullPath).toBe('/campaigns/participations/4')
  })

  it('says so when there is nothing to do', async () => {
    reply = () => [200, inbox([], [])]
    const w = await show()
    expect(w.find('[data-test="inbox-task"]').exists()).toBe(false)
    expect(w.find('[data-test="inbox-no-tasks"]').text()).toContain('暂无待办')
    expect(w.find('[data-test="mark-all-read"]').attributes('disabled')).toBeDefined()
  })

  it('marks unread notifications, reads one on opening it and follows its link', async () => {
    reply = (c) => (c.path === '/api/v1/notifications/read' ? [200, { marked: 1 }] : [200, inbox()])
    const w = await show()
    const notes = w.findAll('[data-test="inbox-note"]')
    expect(notes[0].classes()).toContain('unread')
    expect(notes[1].classes()).not.toContain('unread')
    expect(w.find('[data-test="inbox-unread"]').text()).toContain('1 条未读')

    await notes[0].find('button.row').trigger('click')
    await flushPromises()
    const read = calls.find((c) => c.path === '/api/v1/notifications/read')
    expect(read?.method).toBe('POST')
    expect(read?.body).toEqual({ ids: [1] })
    expect(w.findAll('[data-test="inbox-note"]')[0].classes()).not.toContain('unread')
    expect(w.find('[data-test="inbox-unread"]').exists()).toBe(false)
    expect(router.currentRoute.value.fullPath).toBe('/rectification/5')
  })

  it('marks one read with its own button, and all at once without ids', async () => {
    let read = false
    reply = (c) => {
      if (c.path === '/api/v1/notifications/read') {
        read = true
        return [200, { marked: c.body.ids ? c.body.ids.length : 2 }]
      }
      return [200, read ? inbox(TASKS, [note(1, true), note(3, true)]) : inbox(TASKS, [note(1, false), note(3, false)])]
    }
    const w = await show()
    await w.find('[data-test="inbox-mark-read"]').trigger('click')
    await flushPromises()
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.body)).toEqual([{ ids: [1] }])
    expect(w.findAll('[data-test="inbox-mark-read"]')).toHaveLength(1)
    // Still where we were: marking read does not navigate.
    expect(router.currentRoute.value.fullPath).toBe('/inbox')

    await w.find('[data-test="mark-all-read"]').trigger('click')
    await flushPromises()
    const all = calls.filter((c) => c.method === 'POST')[1]
    expect(all.body).toEqual({})
    expect(ui.success).toHaveBeenCalledWith('已将 2 条消息标为已读')
    expect(w.findAll('.note.unread')).toHaveLength(0)
  })

  it('asks only for unread ones when told to', async () => {
    reply = () => [200, inbox()]
    const w = await show()
    await w.find('[data-test="inbox-only-unread"] input').setValue(true)
    await flushPromises()
    const last = calls.filter((c) => c.path === '/api/v1/inbox').pop()!
    expect(last.query.get('unread')).toBe('true')
  })

  it('shows the server’s message when the inbox cannot be read', async () => {
    reply = () => [500, { code: 'internal', message: '服务器内部错误', details: null }]
    const w = await show()
    expect(w.text()).toContain('服务器内部错误')
  })
})
