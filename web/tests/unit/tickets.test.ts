// The tickets page against a stand-in server: a complaint's photo is shown in its drawer only when
// the complaint came with one, fetched only once that ticket is opened, and opens full size on a
// click; and the rating guards say which of their limits also count complaints.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, RouterView, type Router } from 'vue-router'
import { defineComponent, h } from 'vue'
import { i18n } from '@/locales'
import { useAuthStore } from '@/stores/auth'
import TicketsView from '@/views/service/TicketsView.vue'
import RatingGuardsCard from '@/views/service/RatingGuardsCard.vue'

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

// ---- tickets -------------------------------------------------------------------------------------------
function ticket(over: Record<string, unknown> = {}) {
  return {
    id: 5,
    number: 'GD-2026-000005',
    source: 'complaint',
    about: 'window',
    content: '材料没有一次性告知，来回跑了三趟',
    department_id: 7,
    department_name: '市场监督管理局',
    window_name: '登记窗口',
    person_name: null,
    state: 'verifying',
    due: cityDay(3),
    overdue: false,
    reopened: false,
    has_photo: true,
    phone: '138****5678',
    rating_id: null,
    opened_at: '2026-11-02T01:00:00Z',
    closed_at: null,
    ...over,
  }
}
function detail(over: Record<string, unknown> = {}) {
  return {
    ...ticket(over),
    allowed_actions: ['verify', 'appeal'],
    history: [{ kind: 'ticket.opened', at: '2026-11-02T01:00:00Z', by: null, due: cityDay(3) }],
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

async function show(path: string): Promise<{ w: VueWrapper; router: Router }> {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/service/tickets', name: 'service-tickets', component: TicketsView }],
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
/** The photo's <img> in the ticket's drawer, if any. */
function photo(): HTMLImageElement | null {
  return document.body.querySelector('[data-test="ticket-drawer"] [data-test="ticket-photo"] img')
}
const photoImages = () => document.body.querySelectorAll('img[src*="/photo"]')

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

describe('a complaint’s photo', () => {
  it('is shown in the drawer, with its caption and alt text, when the complaint came with one', async () => {
    signIn(['service:read'])
    on('GET', '/api/v1/tickets', () => [200, page([ticket()])])
    on('GET', '/api/v1/tickets/5', () => [200, detail()])
    await show('/service/tickets?id=5')
    expect(text('[data-test="ticket-content"]')).toBe('材料没有一次性告知，来回跑了三趟')
    const img = photo()
    expect(img).not.toBeNull()
    expect(img!.getAttribute('src')).toBe('/api/v1/tickets/5/photo')
    expect(img!.getAttribute('alt')).toBe('工单 GD-2026-000005 投诉人上传的照片')
    expect(img!.getAttribute('title')).toBe('点击查看大图')
    expect(text('[data-test="ticket-drawer"] .photo-figure figcaption')).toBe('投诉人上传的照片')
    // The image is the browser's to fetch, with the session's cookie: the API client asks nothing.
    expect(sent('GET', '/api/v1/tickets/5/photo')).toHaveLength(0)
  })

  it('is not there when the complaint came without one', async () => {
    signIn(['service:read'])
    on('GET', '/api/v1/tickets', () => [200, page([ticket({ has_photo: false })])])
    on('GET', '/api/v1/tickets/5', () => [200, detail({ has_photo: false })])
    await show('/service/tickets?id=5')
    expect(text('[data-test="ticket-content"]')).toBe('材料没有一次性告知，来回跑了三趟')
    expect($('[data-test="ticket-photo"]')).toBeNull()
    expect($('.photo-figure')).toBeNull()
    expect(photoImages()).toHaveLength(0)
    expect(text('[data-test="ticket-drawer"]')).not.toContain('投诉人上传的照片')
  })

  it('is fetched only once its ticket is opened, never for the list', async () => {
    signIn(['service:read'])
    on('GET', '/api/v1/tickets', () => [200, page([ticket(), ticket({ id: 6, number: 'GD-2026-000006', has_photo: false })])])
    on('GET', '/api/v1/tickets/5', () => [200, detail()])
    on('GET', '/api/v1/tickets/6', () => [200, detail({ id: 6, number: 'GD-2026-000006', has_photo: false })])
    const { router } = await show('/service/tickets')
    expect(text('[data-test="tickets-number-5"]')).toBe('GD-2026-000005')
    expect(photoImages()).toHaveLength(0)

    // The ticket without a photo first: still none.
    await router.push('/service/tickets?id=6')
    await flushPromises()
    expect(text('[data-test="ticket-drawer"] .el-drawer__title')).toBe('工单 GD-2026-000006')
    expect(photoImages()).toHaveLength(0)

    // Then the one with: its photo, and only its.
    ;($('[data-test="tickets-number-5"]')!.closest('td') as HTMLElement).click()
    await flushPromises()
    expect(router.currentRoute.value.query.id).toBe('5')
    await vi.waitFor(() => expect(text('[data-test="ticket-drawer"] .el-drawer__title')).toBe('工单 GD-2026-000005'))
    expect(photoImages()).toHaveLength(1)
    expect(photo()!.getAttribute('src')).toBe('/api/v1/tickets/5/photo')

    // And back to the one without: the photo goes with the ticket.
    await router.push('/service/tickets?id=6')
    await flushPromises()
    expect(photoImages()).toHaveLength(0)
  })

  it('opens full size on a click', async () => {
    signIn(['service:read'])
    on('GET', '/api/v1/tickets', () => [200, page([ticket()])])
    on('GET', '/api/v1/tickets/5', () => [200, detail()])
    await show('/service/tickets?id=5')
    expect($('.el-image-viewer__wrapper')).toBeNull()
    photo()!.click()
    await flushPromises()
    const viewer = $('.el-image-viewer__wrapper')
    expect(viewer).not.toBeNull()
    expect(viewer!.querySelector('img')?.getAttribute('src')).toBe('/api/v1/tickets/5/photo')
  })

  it('is captioned in English too', async () => {
    i18n.global.locale.value = 'en'
    signIn(['service:read'])
    on('GET', '/api/v1/tickets', () => [200, page([ticket()])])
    on('GET', '/api/v1/tickets/5', () => [200, detail()])
    await show('/service/tickets?id=5')
    expect(text('[data-test="ticket-drawer"] .photo-figure figcaption')).toBe('Photo sent with the complaint')
    expect(photo()!.getAttribute('alt')).toBe('Photo sent with the complaint of ticket GD-2026-000005')
  })
})

describe('the rating guards', () => {
  const limit = (max: number, minutes: number) => ({ max, minutes })
  const policy = {
    public_url: 'https://pj.example.gov.cn',
    guards: {
      per_address: limit(60, 60),
      per_phone: limit(10, 1440),
      per_device: limit(10, 1),
      phone_burst: limit(3, 60),
      device_burst: limit(3, 2),
      quick_bulk: limit(5, 10),
      quick_seconds: 30,
      outlier_days: 30,
      outlier_min_ratings: 50,
      outlier_factor: 4,
    },
  }

  it('say under the limits per address and per phone number that they also count complaints', async () => {
    on('GET', '/api/v1/settings/rating-policy', () => [200, policy])
    const w = mount(RatingGuardsCard, { attachTo: document.body, global: { plugins: [pinia, i18n] } })
    mounted.push(w)
    await flushPromises()
    expect(text('[data-test="guard-per_address-hint"]')).toBe('此限额同时限制群众投诉，投诉与评价分开计数。')
    expect(text('[data-test="guard-per_phone-hint"]')).toBe('此限额同时限制群众投诉，投诉与评价分开计数。')
    expect($('[data-test="guard-per_address-hint"]')!.closest('.el-form-item')?.contains($('[data-test="guard-per_address"]'))).toBe(true)
    expect($('[data-test="guard-per_device-hint"]')).toBeNull()
    expect(document.body.querySelectorAll('[data-test$="-hint"]')).toHaveLength(2)
  })
})
