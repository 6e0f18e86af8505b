// The first-inquiry log (首问负责制) as the pages show it: the shelves and states, the request bodies
// the forms send, the fields the server names in its refusals, the days left, and the chain's links
// read as sentences. Translation stays with the caller: these take its `t`.
import type { Schemas } from './client'

export type Inquiry = Schemas['Inquiry']
export type InquiryDetail = Schemas['InquiryDetail']
export type InquiryAction = Schemas['InquiryAction']
export type InquiryLink = Schemas['InquiryLink']
export type Lapse = Schemas['Lapse']
export type HandTo = Schemas['HandTo']
export type ReceiverOption = Schemas['ReceiverOption']
type T = (key: string, params?: Record<string, unknown>) => string

export const SHELVES = ['mine', 'asked', 'all'] as const
export type Shelf = (typeof SHELVES)[number]
export const CHANNELS = ['counter', 'phone', 'online', 'letter'] as const
export const STATES = ['pending', 'handling', 'answered'] as const
export const LAPSE_STATES = ['pending', 'finding', 'dismissed'] as const
/** What the staff member asked first does once it is written down. */
export const THENS = ['answer', 'hand_over', 'keep'] as const
export type Then = (typeof THENS)[number]

export function isShelf(v: unknown): v is Shelf {
  return typeof v === 'string' && (SHELVES as readonly string[]).includes(v)
}

// ---- whom to hand it to ----------------------------------------------------------------------------
/** A receiver's key in a select: `p12` for staff member 12, `d3` for department 3. */
export function receiverKey(o: HandTo | ReceiverOption): string {
  return o.person_id != null ? `p${o.person_id}` : `d${o.department_id ?? ''}`
}

/** What the API is sent for a receiver picked: the staff member (their department follows), or the
 * department. */
export function handTo(o: ReceiverOption): HandTo {
  return o.person_id != null ? { person_id: o.person_id } : { department_id: o.department_id }
}

// ---- what is sent --------------------------------------------------------------------------------------
export interface RecordForm {
  channel: string
  asker: string
  phone: string
  content: string
  then: Then
  /** The answer given there and then, or the hand-over's note. */
  text: string
  to: HandTo | null
}

export function emptyRecord(): RecordForm {
  return { channel: 'counter', asker: '', phone: '', content: '', then: 'answer', text: '', to: null }
}

/** The body of `POST /inquiries`: only what the first move needs goes with it. */
export function recordBody(f: RecordForm): Schemas['InquiryBody'] {
  const phone = f.phone.trim()
  return {
    channel: f.channel,
    asker: f.asker.trim(),
    phone: phone || null,
    content: f.content,
    then: f.then,
    text: f.then === 'keep' ? '' : f.text,
    to: f.then === 'hand_over' ? f.to : null,
  }
}

/** The body of a step: the receiver only for a hand-over, no text to take it up. */
export function stepBody(action: InquiryAction, text: string, to: HandTo | null): Schemas['InquiryStepBody'] {
  return { action, text: action === 'accept' ? '' : text, to: action === 'hand_over' ? to : null }
}

// ---- the server's refusals, next to their field ------------------------------------------------------
/** The field the server checks a step's text under: a refusal's reason, the answer, the note. */
const TEXT_FIELD: Record<InquiryAction | Then, string> = { accept: '', keep: '', refuse: 'reason', answer: 'answer', hand_over: 'note' }

export function textError(errors: Record<string, string>, action: InquiryAction | Then): string | undefined {
  const field = TEXT_FIELD[action]
  return (field ? errors[field] : undefined) ?? errors.text
}

export function receiverError(errors: Record<string, string>): string | undefined {
  return errors.to ?? errors['to.person_id'] ?? errors['to.department_id']
}

// ---- days --------------------------------------------------------------------------------------------
/** Calendar days from `from` to `to` (both 2026-11-02; negative once past). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to + 'T00:00:00Z') - Date.parse(from + 'T00:00:00Z')) / 86_400_000)
}

export interface Countdown {
  kind: 'overdue' | 'today' | 'left'
  n: number
  type: 'danger' | 'warning' | 'info'
}

/** How long an open inquiry has left to be answered; none once answered. */
export function countdown(x: Pick<Inquiry, 'state' | 'due' | 'overdue'>, today: string): Countdown | null {
  if (x.state === 'answered') return null
  const n = daysBetween(today, x.due)
  if (x.overdue || n < 0) return { kind: 'overdue', n: Math.max(1, -n), type: 'danger' }
  if (n === 0) return { kind: 'today', n: 0, type: 'warning' }
  return { kind: 'left', n, type: n <= 1 ? 'warning' : 'info' }
}

/** Whether a hand-over waiting to be taken up is past the day it should have been. */
export function acceptLate(x: Pick<Inquiry, 'state' | 'accept_due'>, today: string): boolean {
  return x.state === 'pending' && !!x.accept_due && x.accept_due < today
}

// ---- names -----------------------------------------------------------------------------------------
/** A staff member with their department, or the department alone (a hand-over to anyone there). */
export function who(t: T, person: string | null | undefined, department: string | null | undefined): string {
  if (person && department) return t('inquiries.who', { person, department })
  return person || department || ''
}

/** Where an inquiry is now: with a staff member, or waiting in a department. */
export function holderOf(t: T, x: Pick<Inquiry, 'holder_person_name' | 'holder_department_name'>): string {
  return who(t, x.holder_person_name, x.holder_department_name)
}

// ---- the chain -----------------------------------------------------------------------------------------
export type TimelineType = 'primary' | 'success' | 'warning' | 'danger' | 'info'

export interface LinkView {
  title: string
  /** Who did what, and to whom. */
  line: string
  /** The day it set or missed, in words. */
  due: string
  /** What they wrote, with its label. */
  textLabel: string
  text: string
  type: TimelineType
}

const LINK_TYPE: Record<string, TimelineType> = {
  recorded: 'primary',
  handed_over: 'warning',
  accepted: 'primary',
  refused: 'danger',
  answered: 'success',
  dropped: 'danger',
  overdue: 'danger',
  lapse_upheld: 'danger',
  lapse_dismissed: 'info',
}

/** One link of the chain in words; a kind this page does not know yet is shown by its code. */
export function linkView(t: T, te: (key: string) => boolean, l: InquiryLink): LinkView {
  const kind = l.kind.replace(/^inquiry\./, '')
  const key = (part: string) => `inquiries.chain.${part}.${kind}`
  const known = te(key('title'))
  const actor = who(t, l.person_name, l.department_name)
  const to = who(t, l.to_person_name, l.to_department_name)
  return {
    title: known ? t(key('title')) : l.kind,
    line: known && actor ? t(key('line'), { who: actor, to: to || '—' }) : actor,
    due: l.due ? (te(key('due')) ? t(key('due'), { day: l.due }) : t('inquiries.chain.dueIs', { day: l.due })) : '',
    textLabel: l.text && te(key('text')) ? t(key('text')) : '',
    text: l.text ?? '',
    type: LINK_TYPE[kind] ?? 'primary',
  }
}
