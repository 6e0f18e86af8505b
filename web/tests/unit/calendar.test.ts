import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { i18n } from '@/locales'
import { todayInCity } from '@/api/cityTime'
import CalendarView from '@/views/inspections/CalendarView.vue'
import { dayCell, dayIndex, isoDay, monthWeeks, yearOf, type CalendarDay } from '@/api/calendar'

const days: CalendarDay[] = [
  { day: '2026-10-01', working: false, source: 'published', note: '国庆节' },
  { day: '2026-10-10', working: true, source: 'published', note: '国庆节调休' },
  { day: '2026-10-12', working: false, source: 'office', note: '全市停电' },
  { day: '2026-10-17', working: false, source: 'office', note: '' },
]

describe('calendar month grid', () => {
  it('starts weeks on Monday and pads to whole weeks', () => {
    // 2026-10-01 is a Thursday; October has 31 days.
    const weeks = monthWeeks(2026, 10, new Map())
    expect(weeks).toHaveLength(5)
    expect(weeks.every((w) => w.length === 7)).toBe(true)
    expect(weeks[0].slice(0, 3)).toEqual([null, null, null])
    expect(weeks[0][3]?.iso).toBe('2026-10-01')
    expect(weeks[4][5]?.iso).toBe('2026-10-31')
    expect(weeks[4][6]).toBeNull()
    expect(weeks.flat().filter(Boolean)).toHaveLength(31)
  })

  it('handles a month that starts on Monday and leap Februaries', () => {
    // 2027-02-01 is a Monday.
    const feb27 = monthWeeks(2027, 2, new Map())
    expect(feb27[0][0]?.iso).toBe('2027-02-01')
    expect(feb27).toHaveLength(4)
    expect(monthWeeks(2028, 2, new Map()).flat().filter(Boolean)).toHaveLength(29)
    // 2026-03-01 is a Sunday: six blanks first.
    expect(monthWeeks(2026, 3, new Map())[0][6]?.iso).toBe('2026-03-01')
  })

  it('marks weekends and merges the exceptions', () => {
    const index = dayIndex(days)
    const cells = monthWeeks(2026, 10, index).flat().filter((c) => c !== null)
    const at = (n: number) => cells[n - 1]
    expect(at(1)).toMatchObject({ weekend: false, working: false, mark: 'off', office: false, note: '国庆节' })
    expect(at(2)).toMatchObject({ weekend: false, working: true, mark: '' })
    expect(at(3)).toMatchObject({ weekend: true, working: false, mark: '' })
    expect(at(10)).toMatchObject({ weekend: true, working: true, mark: 'work', source: 'published' })
    expect(at(12)).toMatchObject({ working: false, mark: 'off', office: true, note: '全市停电' })
    // The office set a Saturday off: nothing to mark, but it is still the office's entry.
    expect(at(17)).toMatchObject({ weekend: true, working: false, mark: '', office: true })
  })

  it('formats and reads days', () => {
    expect(isoDay(2027, 1, 5)).toBe('2027-01-05')
    expect(yearOf('2026-11-02')).toBe(2026)
    expect(dayCell(2026, 12, 25, new Map()).weekend).toBe(false)
  })
})

// ---- the page, against a stand-in server ----------------------------------------------------------
vi.mock('element-plus', async (importOriginal) => {
  const original = await importOriginal<typeof import('element-plus')>()
  return { ...original, ElMessage: Object.assign(vi.fn(), { success: vi.fn(), error: vi.fn(), warning: vi.fn(), info: vi.fn() }) }
})

interface Call {
  method: string
  path: string
  query: URLSearchParams
  body: any
}

describe('CalendarView', () => {
  let calls: Call[] = []
  let wrapper: VueWrapper | null = null
  let importReply: [number, unknown] = [200, {}]
  const thisYear = yearOf(todayInCity())

  function yearBody(year: number, published: boolean, extra: CalendarDay[] = []) {
    return { year, published, days: [{ day: `${year}-10-01`, working: false, source: 'published', note: '国庆节' }, ...extra] }
  }

  beforeEach(() => {
    setActivePinia(createPinia())
    i18n.global.locale.value = 'zh-CN'
    calls = []
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: Request | string, init?: RequestInit) => {
        const req = typeof input === 'string' ? new Request(new URL(input, 'http://localhost'), init) : input
        const url = new URL(req.url)
        const isJson = (req.headers.get('Content-Type') ?? '').includes('json')
        const text = req.method === 'GET' || !isJson ? '' : await req.text()
        const c: Call = { method: req.method, path: url.pathname, query: url.searchParams, body: text ? JSON.parse(text) : undefined }
        calls.push(c)
        const json = (status: number, b: unknown) => new Response(JSON.stringify(b), { status, headers: { 'Content-Type': 'application/json' } })
        if (c.method === 'GET' && c.path === '/api/v1/calendar') {
          const y = Number(c.query.get('year'))
          return json(200, yearBody(y, y <= 2026))
        }
        if (c.method === 'PUT' && c.path === '/api/v1/calendar/days') {
          const b = c.body as { day: string; working: boolean | null; note: string }
          const extra = b.working === null ? [] : [{ day: b.day, working: b.working, source: 'office', note: b.note }]
          return json(200, yearBody(yearOf(b.day), true, extra))
        }
        if (c.method === 'POST' && c.path === '/api/v1/calendar/import') return json(importReply[0], importReply[1])
        return json(404, { code: 'not_found', message: 'not found', details: null })
      }),
    )
  })

  afterEach(() => {
    wrapper?.unmount()
    wrapper = null
    document.body.innerHTML = ''
    vi.unstubAllGlobals()
  })

  async function show() {
    wrapper = mount(CalendarView, { attachTo: document.body, global: { plugins: [i18n] } })
    await flushPromises()
    return wrapper
  }

  it('shows the year with its exceptions, and warns when the arrangement is missing', async () => {
    const w = await show()
    expect(calls[0].query.get('year')).toBe(String(thisYear))
    const oct1 = w.get(`[data-test="calendar-day-${thisYear}-10-01"]`)
    expect(oct1.classes()).toContain('off')
    expect(oct1.text()).toContain('休')
    expect(oct1.attributes('title')).toContain('国庆节')
    expect(w.findAll('.month')).toHaveLength(12)
    expect(w.find('[data-test="calendar-unpublished"]').exists()).toBe(thisYear > 2026)

    await w.get('[data-test="calendar-next"]').trigger('click')
    await flushPromises()
    expect(calls.at(-1)!.query.get('year')).toBe(String(thisYear + 1))
    expect(w.get('[data-test="calendar-unpublished"]').text()).toContain(`${thisYear + 1} 年的国务院节假日安排尚未录入`)
  })

  it('sets a day and shows the year the server returns', async () => {
    const w = await show()
    // A Saturday of the year on screen becomes a working day.
    const sat = monthWeeks(thisYear, 9, new Map()).flat().find((c) => c && c.weekend)!
    await w.get(`[data-test="calendar-day-${sat.iso}"]`).trigger('click')
    await flushPromises()
    const dialog = document.body.querySelector('[data-test="calendar-day-dialog"]')!
    expect(dialog).toBeTruthy()
    ;(document.body.querySelector('[data-test="calendar-choice-working"] input') as HTMLInputElement).click()
    await flushPromises()
    const note = document.body.querySelector('input[data-test="calendar-day-note"], [data-test="calendar-day-note"] input') as HTMLInputElement
    note.value = '调休上班'
    note.dispatchEvent(new Event('input'))
    ;(document.body.querySelector('[data-test="calendar-day-save"]') as HTMLElement).click()
    await flushPromises()
    const put = calls.find((c) => c.method === 'PUT')!
    expect(put.body).toEqual({ day: sat.iso, working: true, note: '调休上班' })
    const cell = w.get(`[data-test="calendar-day-${sat.iso}"]`)
    expect(cell.classes()).toEqual(expect.arrayContaining(['work', 'office']))
    expect(cell.text()).toContain('班')
  })

  it('imports a file and lists the rejected rows', async () => {
    importReply = [422, { code: 'import_rejected', message: '文件有误', details: [{ row: 3, column: '类型', code: 'invalid', message: '类型应为上班或放假' }] }]
    const w = await show()
    await w.get('[data-test="calendar-import"]').trigger('click')
    await flushPromises()
    const input = document.body.querySelector('[data-test="calendar-import-file"] input[type=file]') as HTMLInputElement
    const file = new File([new Uint8Array([1, 2, 3])], '2027.xlsx', { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' })
    Object.defineProperty(input, 'files', { value: [file] })
    input.dispatchEvent(new Event('change'))
    await flushPromises()
    ;(document.body.querySelector('[data-test="calendar-import-submit"]') as HTMLElement).click()
    await flushPromises()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.path).toBe('/api/v1/calendar/import')
    expect(document.body.querySelector('[data-test="calendar-import-error"]')?.textContent).toContain('文件有误')
    expect(document.body.querySelector('[data-test="calendar-import-problems"]')?.textContent).toContain('类型应为上班或放假')
  })
})
