// The working-day calendar as the office sees it: a year's month grids (weeks start on Monday),
// with the server's exceptions to Monday-to-Friday merged in.
import type { Schemas } from './client'

export type CalendarDay = Schemas['CalendarDay']
export type CalendarYear = Schemas['CalendarYear']

/** The answer to an .xlsx import: how many days were set, and each year it touched. */
export interface CalendarImportResult {
  set: number
  years: CalendarYear[]
}

export interface DayCell {
  /** 2026-10-01 */
  iso: string
  /** Day of the month, 1-31. */
  date: number
  /** Saturday or Sunday. */
  weekend: boolean
  /** Whether the day is worked, after the exceptions. */
  working: boolean
  /** `off`: a day off on a weekday; `work`: a working weekend; '' as Monday-to-Friday would have it. */
  mark: '' | 'off' | 'work'
  /** The office has set this day itself. */
  office: boolean
  /** The exception's source, when the day has one. */
  source: string
  note: string
}

/** A week, Monday first; null where the day belongs to another month. */
export type Week = (DayCell | null)[]

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

/** 2026-10-01 for (2026, 10, 1). */
export function isoDay(year: number, month: number, date: number): string {
  return `${year}-${pad(month)}-${pad(date)}`
}

/** The year of a city day (2026-11-02 → 2026). */
export function yearOf(iso: string): number {
  return Number(iso.slice(0, 4))
}

/** The exceptions by day. */
export function dayIndex(days: readonly CalendarDay[]): Map<string, CalendarDay> {
  return new Map(days.map((d) => [d.day, d]))
}

/** One day, with its exception (if any) applied. */
export function dayCell(year: number, month: number, date: number, index: Map<string, CalendarDay>): DayCell {
  const iso = isoDay(year, month, date)
  const dow = new Date(Date.UTC(year, month - 1, date)).getUTCDay()
  const weekend = dow === 0 || dow === 6
  const entry = index.get(iso)
  const working = entry ? entry.working : !weekend
  const mark = !working && !weekend ? 'off' : working && weekend ? 'work' : ''
  return {
    iso,
    date,
    weekend,
    working,
    mark,
    office: entry?.source === 'office',
    source: entry?.source ?? '',
    note: entry?.note ?? '',
  }
}

/** The weeks of a month (1-12), Monday first, padded with nulls to whole weeks. */
export function monthWeeks(year: number, month: number, index: Map<string, CalendarDay>): Week[] {
  const length = new Date(Date.UTC(year, month, 0)).getUTCDate()
  // Monday = 0 … Sunday = 6.
  const lead = (new Date(Date.UTC(year, month - 1, 1)).getUTCDay() + 6) % 7
  const cells: (DayCell | null)[] = Array.from({ length: lead }, () => null)
  for (let d = 1; d <= length; d++) cells.push(dayCell(year, month, d, index))
  while (cells.length % 7 !== 0) cells.push(null)
  const weeks: Week[] = []
  for (let i = 0; i < cells.length; i += 7) weeks.push(cells.slice(i, i + 7))
  return weeks
}
