// Evidence files: the small rules the uploader and the file list share — sizes and progress as
// people read them, what a failed upload's response says, which failures are worth retrying,
// and which kinds a policy accepts.
import type { Schemas } from './client'

export type Evidence = Schemas['FindingDetail']['evidence'][number]
export type Purpose = 'evidence' | 'appeal'
export type Kind = 'video' | 'photo' | 'audio' | 'document'
export const KINDS: Kind[] = ['video', 'photo', 'audio', 'document']

/** The kinds a policy accepts, in their usual order (all of them when there is no policy yet). */
export function policyKinds(p: { evidence_kinds?: readonly Kind[] | null } | null | undefined): Kind[] {
  if (!p?.evidence_kinds) return [...KINDS]
  return KINDS.filter((k) => p.evidence_kinds?.includes(k))
}

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB']

/** A size as people read it, in binary units like the policy's MB: 512 B, 1.5 KB, 12.3 MB, 412 MB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return ''
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  if (unit === 0) return `${bytes} B`
  // One decimal while it says something; 0.95 MB rounds up to "1.0 MB", never "1024.0 KB".
  let text = value < 100 ? value.toFixed(1) : String(Math.round(value))
  if (Number(text) >= 1024 && unit < UNITS.length - 1) {
    unit++
    text = '1.0'
  }
  return `${text} ${UNITS[unit]}`
}

/** Whole percent sent, never 100 before the last byte is in. */
export function percentOf(sent: number, total: number): number {
  if (total <= 0) return sent >= total ? 100 : 0
  if (sent >= total) return 100
  return Math.min(99, Math.max(0, Math.floor((sent / total) * 100)))
}

/** Bytes sent against the total, both in the total's unit: "12.3 / 45.6 MB". */
export function progressText(sent: number, total: number): string {
  const whole = formatBytes(total)
  const unit = whole.split(' ')[1] ?? 'B'
  const power = UNITS.indexOf(unit)
  const part = sent / 1024 ** power
  const done = power === 0 ? String(Math.min(sent, total)) : (part < 100 ? part.toFixed(1) : String(Math.round(part)))
  return `${done} / ${whole}`
}

/** A digest short enough to read aloud: the first and last eight hex digits. */
export function shortHash(hex: string): string {
  return hex.length > 20 ? `${hex.slice(0, 8)}…${hex.slice(-8)}` : hex
}

/** The address that saves a file rather than showing it. */
export function downloadUrl(contentUrl: string): string {
  return contentUrl + (contentUrl.includes('?') ? '&' : '?') + 'download=true'
}

/** What a request that failed for good says, as far as tus-js-client lets us see it. */
export interface UploadFailure {
  /** The HTTP status, 0 when no answer came (the network, not the server). */
  status: number
  /** The server's error code, or '' when there is none. */
  code: string
  /** The server's message in the UI's language, or '' when it gave none. */
  message: string
}

interface ResponseLike {
  getStatus(): number
  getBody(): string
  getHeader?(name: string): string | undefined
}

/** Reads the `{code, message}` body out of tus-js-client's DetailedError (or any other error). */
export function uploadFailure(err: unknown): UploadFailure {
  const res = (err as { originalResponse?: ResponseLike | null } | null)?.originalResponse
  if (!res || typeof res.getStatus !== 'function') return { status: 0, code: '', message: '' }
  const status = res.getStatus()
  let body: unknown
  try {
    body = JSON.parse(res.getBody())
  } catch {
    body = null
  }
  if (body && typeof body === 'object') {
    const { code, message } = body as { code?: unknown; message?: unknown }
    return { status, code: typeof code === 'string' ? code : '', message: typeof message === 'string' ? message : '' }
  }
  return { status, code: '', message: '' }
}

/** The seconds a refusal asks the client to wait (`Retry-After`), or null when it does not say. */
export function retryAfterOf(err: unknown): number | null {
  const res = (err as { originalResponse?: ResponseLike | null } | null)?.originalResponse
  const raw = res && typeof res.getHeader === 'function' ? res.getHeader('Retry-After') : undefined
  const seconds = raw == null ? NaN : Number(raw)
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null
}

/**
 * Whether trying again could help: no answer at all (the network dropped), a server that is busy
 * or failing, an offset that moved under us (409 `offset_mismatch`: the next HEAD says where to go
 * on), a request the server ended because nothing arrived for a while (408 `upload_stalled`: what
 * arrived is kept), a lock, too many uploads at once (429). A refusal (too large, over a quota,
 * wrong type, not allowed, the finding no longer open for files — a 409 `invalid_transition`, after
 * which the server has dropped the upload) stays a refusal.
 */
export function isTransient(f: Pick<UploadFailure, 'status' | 'code'>): boolean {
  const { status, code } = f
  if (status === 409) return code === 'offset_mismatch' || code === ''
  return status === 0 || status === 408 || status === 423 || status === 429 || status >= 500
}

/** What a picked file probably is, to show the right icon before the server has looked inside. */
export function guessKind(file: { type: string; name: string }): Kind {
  const type = file.type.toLowerCase()
  if (type.startsWith('video/')) return 'video'
  if (type.startsWith('image/')) return 'photo'
  if (type.startsWith('audio/')) return 'audio'
  const ext = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase() ?? ''
  if (['mp4', 'mov', 'webm', 'mkv', '3gp', 'avi', 'm4v'].includes(ext)) return 'video'
  if (['jpg', 'jpeg', 'png', 'webp', 'heic', 'heif', 'gif'].includes(ext)) return 'photo'
  if (['mp3', 'm4a', 'aac', 'wav', 'ogg', 'amr', 'flac'].includes(ext)) return 'audio'
  return 'document'
}

/** The `accept` list for the file picker: a hint to the phone's picker, the server decides. */
export function acceptFor(kinds: readonly Kind[]): string {
  const parts: string[] = []
  if (kinds.includes('video')) parts.push('video/*')
  if (kinds.includes('photo')) parts.push('image/*')
  if (kinds.includes('audio')) parts.push('audio/*')
  if (kinds.includes('document')) parts.push('.pdf', '.doc', '.docx', '.xls', '.xlsx', '.odt')
  return parts.join(',')
}
