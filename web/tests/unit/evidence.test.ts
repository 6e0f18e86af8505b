import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import {
  acceptFor, downloadUrl, formatBytes, guessKind, isTransient, percentOf, policyKinds, progressText, retryAfterOf, shortHash, uploadFailure, type Evidence,
} from '@/api/evidence'
import { setLanguage } from '@/api/client'

// tus-js-client stands in here: each Upload is recorded with its options, so a test can play the
// server's part by calling the callbacks the store gave it.
const tus = vi.hoisted(() => {
  class Upload {
    file: File
    options: Record<string, any>
    url: string | null = null
    start = vi.fn()
    abort = vi.fn(async () => {})
    findPreviousUploads = vi.fn(async () => tus.previous.splice(0))
    resumeFromPreviousUpload = vi.fn()
    constructor(file: File, options: Record<string, any>) {
      this.file = file
      this.options = options
      tus.instances.push(this)
    }
  }
  return { Upload, instances: [] as Upload[], previous: [] as unknown[] }
})
vi.mock('tus-js-client', () => ({ Upload: tus.Upload }))

const { useUploadsStore, RETRY_DELAYS, TOO_MANY_WAIT } = await import('@/stores/uploads')

function response(status: number, body: unknown, headers: Record<string, string> = {}) {
  return { getStatus: () => status, getBody: () => (typeof body === 'string' ? body : JSON.stringify(body)), getHeader: (h: string) => headers[h], getUnderlyingObject: () => null }
}
/** What tus-js-client hands to onError / onShouldRetry: a DetailedError. */
function detailedError(res: ReturnType<typeof response> | null) {
  return Object.assign(new Error('tus: failed'), { originalRequest: { getMethod: () => 'PATCH' }, originalResponse: res, causingError: null })
}

function evidence(id: number, over: Partial<Evidence> = {}): Evidence {
  return {
    id,
    purpose: 'evidence',
    kind: 'photo',
    mime: 'image/png',
    filename: 'a.png',
    size: 10,
    sha256: 'a'.repeat(64),
    sm3: 'b'.repeat(64),
    uploaded_at: '2026-11-02T01:00:00Z',
    uploaded_by_name: null,
    corrupt: false,
    content_url: `/api/v1/evidence/${id}/content`,
    ...over,
  } as Evidence
}

describe('sizes and progress', () => {
  it('reads sizes in binary units, one decimal while small', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KB')
    expect(formatBytes(12.34 * 1024 * 1024)).toBe('12.3 MB')
    expect(formatBytes(412 * 1024 * 1024)).toBe('412 MB')
    expect(formatBytes(4 * 1024 ** 3)).toBe('4.0 GB')
    // Just under a unit rounds up to it rather than showing 1024.
    expect(formatBytes(1024 * 1024 - 10)).toBe('1.0 MB')
  })

  it('never says 100% before the last byte is in', () => {
    expect(percentOf(0, 1000)).toBe(0)
    expect(percentOf(456, 1000)).toBe(45)
    expect(percentOf(999_999, 1_000_000)).toBe(99)
    expect(percentOf(1000, 1000)).toBe(100)
    expect(percentOf(0, 0)).toBe(100)
  })

  it('shows what was sent in the unit of the whole', () => {
    expect(progressText(12.3 * 1024 * 1024, 45.6 * 1024 * 1024)).toBe('12.3 / 45.6 MB')
    expect(progressText(512 * 1024, 2 * 1024 ** 3)).toBe('0.0 / 2.0 GB')
    expect(progressText(40, 100)).toBe('40 / 100 B')
  })

  it('shortens a digest to its ends', () => {
    const h = '0123456789abcdef'.repeat(4)
    expect(shortHash(h)).toBe('01234567…89abcdef')
    expect(shortHash('abc')).toBe('abc')
  })

  it('asks for a download with the right separator', () => {
    expect(downloadUrl('/api/v1/evidence/3/content')).toBe('/api/v1/evidence/3/content?download=true')
    expect(downloadUrl('/api/v1/evidence/3/content?v=1')).toBe('/api/v1/evidence/3/content?v=1&download=true')
  })
})

describe('a failed upload', () => {
  it('carries the server’s own message out of the response body', () => {
    const err = detailedError(response(415, { code: 'type_not_accepted', message: '不接受此类文件：只接受视频、照片、录音和文档', details: null }))
    expect(uploadFailure(err)).toEqual({ status: 415, code: 'type_not_accepted', message: '不接受此类文件：只接受视频、照片、录音和文档' })
  })

  it('has a status but no message when the body is not JSON, and status 0 when no answer came', () => {
    expect(uploadFailure(detailedError(response(502, '<html>Bad Gateway</html>')))).toEqual({ status: 502, code: '', message: '' })
    expect(uploadFailure(detailedError(null))).toEqual({ status: 0, code: '', message: '' })
    expect(uploadFailure(new Error('x'))).toEqual({ status: 0, code: '', message: '' })
    expect(uploadFailure(null)).toEqual({ status: 0, code: '', message: '' })
  })

  it('is retried for the network, a busy server and a moved offset, never for a refusal', () => {
    for (const status of [0, 423, 429, 500, 503]) expect(isTransient({ status, code: '' })).toBe(true)
    expect(isTransient({ status: 409, code: 'offset_mismatch' })).toBe(true)
    for (const status of [400, 401, 403, 404, 410, 413, 415, 422]) expect(isTransient({ status, code: 'x' })).toBe(false)
    // The finding is no longer open for files: waiting will not change that.
    expect(isTransient({ status: 409, code: 'not_open_for_files' })).toBe(false)
    expect(isTransient({ status: 409, code: 'invalid_transition' })).toBe(false)
    // Over a quota stays refused; a request ended for sending nothing resumes.
    expect(isTransient({ status: 413, code: 'user_quota_exceeded' })).toBe(false)
    expect(isTransient({ status: 408, code: 'upload_stalled' })).toBe(true)
  })

  it('reads how long the server asks to wait', () => {
    expect(retryAfterOf(detailedError(response(429, {}, { 'Retry-After': '30' })))).toBe(30)
    expect(retryAfterOf(detailedError(response(429, {})))).toBeNull()
    expect(retryAfterOf(detailedError(response(429, {}, { 'Retry-After': 'soon' })))).toBeNull()
    expect(retryAfterOf(null)).toBeNull()
  })
})

describe('kinds', () => {
  it('guesses the icon from the type, else the extension', () => {
    expect(guessKind({ type: 'video/quicktime', name: 'IMG_0001.MOV' })).toBe('video')
    expect(guessKind({ type: '', name: 'clip.MP4' })).toBe('video')
    expect(guessKind({ type: 'image/heic', name: 'x' })).toBe('photo')
    expect(guessKind({ type: '', name: 'memo.amr' })).toBe('audio')
    expect(guessKind({ type: 'application/pdf', name: 'report.pdf' })).toBe('document')
  })

  it('reads the policy’s kinds as codes, however spelled', () => {
    expect(policyKinds({ evidence_kinds: ['video', 'document'] })).toEqual(['video', 'document'])
    expect(policyKinds({ evidence_kinds: ['audio', 'photo'] })).toEqual(['photo', 'audio'])
    expect(policyKinds({ evidence_kinds: [] })).toEqual([])
    expect(policyKinds(null)).toEqual(['video', 'photo', 'audio', 'document'])
  })

  it('offers the picker only the kinds the office accepts', () => {
    expect(acceptFor(['video', 'photo'])).toBe('video/*,image/*')
    expect(acceptFor(['document'])).toContain('.pdf')
    expect(acceptFor([])).toBe('')
  })
})

describe('the uploads store', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    tus.instances.length = 0
  })
  afterEach(() => {
    vi.unstubAllGlobals()
    setLanguage('zh-CN')
  })

  const file = (name: string, size = 10, type = 'image/png') => new File([new Uint8Array(size)], name, { type })
  const flush = () => new Promise((r) => setTimeout(r, 0))

  it('sends each file by tus with its name and purpose, in the UI’s language, two at a time', async () => {
    setLanguage('en')
    const store = useUploadsStore()
    store.add(7, 'appeal', [file('一.png'), file('二.png'), file('三.png')])
    await flush()
    expect(tus.instances).toHaveLength(3)
    const o = tus.instances[0].options
    expect(o.endpoint).toBe(window.location.origin + '/api/v1/findings/7/uploads')
    expect(o.metadata).toEqual({ filename: '一.png', purpose: 'appeal' })
    expect(o.retryDelays).toEqual(RETRY_DELAYS)
    expect(o.chunkSize).toBeUndefined()
    expect(o.removeFingerprintOnSuccess).toBe(true)
    expect(o.headers['Accept-Language']).toBe('en')
    expect(tus.instances.map((u) => u.start.mock.calls.length)).toEqual([1, 1, 0])
    expect(store.items.map((i) => i.state)).toEqual(['uploading', 'uploading', 'queued'])
  })

  it('shows the network loss while tus retries, and goes on when bytes flow again', async () => {
    const store = useUploadsStore()
    store.add(7, 'evidence', [file('v.mp4', 1000, 'video/mp4')])
    await flush()
    const o = tus.instances[0].options
    o.onProgress(400, 1000)
    expect(store.items[0].sent).toBe(400)
    expect(o.onShouldRetry(detailedError(null), 0, o)).toBe(true)
    expect(store.items[0].state).toBe('retrying')
    o.onProgress(600, 1000)
    expect(store.items[0].state).toBe('uploading')
    // A refusal is not retried.
    expect(o.onShouldRetry(detailedError(response(413, { code: 'file_too_large', message: '文件过大' })), 0, o)).toBe(false)
    expect(o.onShouldRetry(detailedError(response(409, { code: 'not_open_for_files', message: '不能再添加' })), 0, o)).toBe(false)
    expect(o.onShouldRetry(detailedError(response(409, { code: 'offset_mismatch', message: '位置不符' })), 0, o)).toBe(true)
  })

  it('fails with the server’s message when the server refuses the file', async () => {
    const store = useUploadsStore()
    store.add(7, 'evidence', [file('x.exe', 10, 'application/octet-stream')])
    await flush()
    tus.instances[0].options.onError(detailedError(response(415, { code: 'type_not_accepted', message: '不接受此类文件', details: null })))
    expect(store.items[0]).toMatchObject({ state: 'failed', message: '不接受此类文件', retryable: false })
  })

  it('waits as long as the server asks when there are too many uploads at once, keeping its place', async () => {
    vi.useFakeTimers()
    try {
      const store = useUploadsStore()
      store.add(7, 'evidence', [file('a.mp4'), file('b.mp4'), file('c.mp4')])
      await vi.advanceTimersByTimeAsync(0)
      const u = tus.instances[0]
      const refusal = detailedError(response(429, { code: 'too_many_uploads', message: '您已有 4 个未完成的上传' }, { 'Retry-After': '12' }))
      // Not the quick retries meant for the network.
      expect(u.options.onShouldRetry(refusal, 0, u.options)).toBe(false)
      u.options.onError(refusal)
      expect(store.items[0]).toMatchObject({ state: 'retrying', message: '您已有 4 个未完成的上传' })
      // Its slot is kept: the third file still waits.
      expect(store.items[2].state).toBe('queued')
      await vi.advanceTimersByTimeAsync(11_000)
      expect(u.start).toHaveBeenCalledTimes(1)
      await vi.advanceTimersByTimeAsync(1_000)
      expect(u.start).toHaveBeenCalledTimes(2)
      expect(store.items[0].message).toBe('')
      // Without a Retry-After it waits the default.
      const v = tus.instances[1]
      v.options.onError(detailedError(response(429, { code: 'too_many_uploads', message: 'x' })))
      await vi.advanceTimersByTimeAsync(TOO_MANY_WAIT * 1000 - 1)
      expect(v.start).toHaveBeenCalledTimes(1)
      await vi.advanceTimersByTimeAsync(1)
      expect(v.start).toHaveBeenCalledTimes(2)
    } finally {
      vi.useRealTimers()
    }
  })

  it('stops for good when the finding no longer takes files or a quota is full', async () => {
    const store = useUploadsStore()
    store.add(7, 'evidence', [file('v.mp4'), file('w.mp4')])
    await flush()
    tus.instances[0].options.onError(detailedError(response(409, { code: 'invalid_transition', message: '该问题已确认，不能再添加取证文件' })))
    expect(store.items[0]).toMatchObject({ state: 'failed', message: '该问题已确认，不能再添加取证文件', retryable: false })
    tus.instances[1].options.onError(detailedError(response(413, { code: 'user_quota_exceeded', message: '超过每人上限' })))
    expect(store.items[1]).toMatchObject({ state: 'failed', message: '超过每人上限', retryable: false })
  })

  it('waits for the network when the retries run out, and resumes when it is back', async () => {
    const store = useUploadsStore()
    store.add(7, 'evidence', [file('v.mp4')])
    await flush()
    const u = tus.instances[0]
    u.options.onError(detailedError(null))
    expect(store.items[0].state).toBe('stalled')
    window.dispatchEvent(new Event('online'))
    await flush()
    expect(u.start).toHaveBeenCalledTimes(2)
    expect(store.items[0].state).toBe('uploading')
  })

  it('pauses and resumes from where the server has it', async () => {
    const store = useUploadsStore()
    store.add(7, 'evidence', [file('v.mp4')])
    await flush()
    const u = tus.instances[0]
    store.pause(store.items[0].key)
    expect(u.abort).toHaveBeenCalledWith()
    expect(store.items[0].state).toBe('paused')
    store.resume(store.items[0].key)
    await flush()
    expect(u.start).toHaveBeenCalledTimes(2)
    expect(store.items[0].state).toBe('uploading')
  })

  it('continues an upload an earlier page started on the same file', async () => {
    const store = useUploadsStore()
    tus.previous.push(
      { metadata: { purpose: 'appeal' }, uploadUrl: 'http://x/api/v1/uploads/other', creationTime: '2026-11-03T00:00:00Z', size: 10, urlStorageKey: 'k0', parallelUploadUrls: null },
      { metadata: { purpose: 'evidence' }, uploadUrl: 'http://x/api/v1/uploads/old', creationTime: '2026-11-01T00:00:00Z', size: 10, urlStorageKey: 'k1', parallelUploadUrls: null },
      { metadata: { purpose: 'evidence' }, uploadUrl: 'http://x/api/v1/uploads/new', creationTime: '2026-11-02T00:00:00Z', size: 10, urlStorageKey: 'k2', parallelUploadUrls: null },
    )
    store.add(7, 'evidence', [file('v.mp4')])
    const u = tus.instances[0]
    await flush()
    expect(u.resumeFromPreviousUpload).toHaveBeenCalledWith(expect.objectContaining({ uploadUrl: 'http://x/api/v1/uploads/new' }))
    expect(store.items[0].resumed).toBe(true)
    expect(u.start).toHaveBeenCalledTimes(1)
  })

  it('learns the file’s digests from the finding once it is in, and starts the next', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ id: 7, evidence: [evidence(30, { filename: 'p.png', size: 10 }), evidence(31, { filename: 'p.png', size: 10, sha256: 'c'.repeat(64) })], can_attach: ['evidence'], history: [] }), { status: 200, headers: { 'Content-Type': 'application/json' } })),
    )
    const store = useUploadsStore()
    const heard: number[] = []
    store.onUploaded((item) => heard.push(item.evidence?.id ?? -1))
    store.add(7, 'evidence', [file('p.png'), file('q.png'), file('r.png')])
    await flush()
    tus.instances[0].options.onSuccess({ lastResponse: response(204, '', { 'Upload-Evidence-Id': '31' }) })
    await flush()
    await flush()
    expect(store.items[0]).toMatchObject({ state: 'done', sent: 10 })
    expect(store.items[0].evidence?.sha256).toBe('c'.repeat(64))
    expect(heard).toEqual([31])
    expect(tus.instances[2].start).toHaveBeenCalledTimes(1)
  })

  it('asks before the page is left while a file is still going up', async () => {
    const store = useUploadsStore()
    store.add(7, 'evidence', [file('v.mp4')])
    await flush()
    const e = new Event('beforeunload', { cancelable: true })
    window.dispatchEvent(e)
    expect(e.defaultPrevented).toBe(true)
    store.remove(store.items[0].key)
    expect(tus.instances[0].abort).toHaveBeenCalledWith(true)
  })
})

describe('the city clock', () => {
  it('reads times and days in Shanghai, whatever the browser’s zone', async () => {
    const { cityDay, cityTime, todayInCity } = await import('@/api/cityTime')
    expect(cityTime('2026-11-01T16:30:00Z')).toBe('2026-11-02 00:30')
    expect(cityDay('2026-11-01T16:00:00Z')).toBe('2026-11-02')
    expect(cityDay(null)).toBe('')
    expect(cityTime(null)).toBe('')
    expect(todayInCity(new Date('2026-11-01T16:30:00Z'))).toBe('2026-11-02')
  })
})
