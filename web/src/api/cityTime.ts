// The city's clock: the office works in Shanghai time, whatever zone the browser is in.
const ZONE = 'Asia/Shanghai'
const dayFormat = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE })
const minuteFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hour12: false,
})

/** Today in the city, as the API writes days: 2026-11-02. */
export function todayInCity(now: Date = new Date()): string {
  return dayFormat.format(now)
}

/** The city's day of a time: 2026-05-12 (empty for none). The API gives a department only the
 * day of the covert work (at 00:00), so that is all there is to show it. */
export function cityDay(iso: string | null | undefined): string {
  return iso ? dayFormat.format(new Date(iso)) : ''
}

/** A time as the city reads it: 2026-05-12 14:03 (empty for none). */
export function cityTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const parts = Object.fromEntries(minuteFormat.formatToParts(new Date(iso)).map((p) => [p.type, p.value]))
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour === '24' ? '00' : parts.hour}:${parts.minute}`
}
