// Evidence uploads in progress. They live here rather than in the page that started them, so an
// inspector can record the next finding (or open another page) while a video is still going up;
// only leaving the application stops them, and the browser asks first. Each file goes up with
// tus (resumable): a dropped network is retried from the server's offset, and a file picked again
// after a reload continues where it stopped.
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import * as tus from 'tus-js-client'
import { api, call, currentLanguage, type Schemas } from '@/api/client'
import { guessKind, isTransient, retryAfterOf, uploadFailure, type Evidence, type Kind, type Purpose } from '@/api/evidence'

type FindingDetail = Schemas['FindingDetail']

export type UploadState =
  /** waiting for a free slot */
  | 'queued'
  | 'uploading'
  /** paused by the user; resumable */
  | 'paused'
  /** the network dropped: retrying on its own */
  | 'retrying'
  /** the retries ran out while the network was down: continues when it is back, or on a tap */
  | 'stalled'
  | 'done'
  | 'failed'

export interface UploadItem {
  key: number
  findingId: number
  purpose: Purpose
  name: string
  size: number
  kind: Kind
  sent: number
  state: UploadState
  /** The server's message when it failed (or ours when there was no answer). */
  message: string
  /** Whether trying again could help (the server did not refuse the file). */
  retryable: boolean
  /** Continued an upload that an earlier page had started. */
  resumed: boolean
  evidence: Evidence | null
}

/** How many files go up at once: more only share the same phone connection. */
const PARALLEL = 2
export const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000]
/** How long to wait when the server says there are too many uploads at once but not for how long. */
export const TOO_MANY_WAIT = 30

type Listener = (item: UploadItem, detail: FindingDetail | null) => void

export const useUploadsStore = defineStore('uploads', () => {
  const items = ref<UploadItem[]>([])
  const uploads = new Map<number, tus.Upload>()
  const started = new Set<number>()
  const listeners = new Set<Listener>()
  /** Files already matched to an upload, so two equal files are told apart. */
  let nextKey = 1

  const active = computed(() => items.value.filter((i) => i.state === 'queued' || i.state === 'uploading' || i.state === 'retrying'))
  /** Uploads that leaving the application would cut off (paused ones included: they hold the user's intent). */
  const unfinished = computed(() => items.value.filter((i) => i.state !== 'done' && i.state !== 'failed'))

  function find(key: number): UploadItem | undefined {
    return items.value.find((i) => i.key === key)
  }

  function of(findingId: number, purpose?: Purpose): UploadItem[] {
    return items.value.filter((i) => i.findingId === findingId && (purpose == null || i.purpose === purpose))
  }

  /** Hears of every finished upload, with the finding as it stands after it. */
  function onUploaded(fn: Listener): () => void {
    listeners.add(fn)
    return () => listeners.delete(fn)
  }

  function add(findingId: number, purpose: Purpose, files: Iterable<File>) {
    for (const file of files) {
      const item = reactive<UploadItem>({
        key: nextKey++,
        findingId,
        purpose,
        name: file.name,
        size: file.size,
        kind: guessKind(file),
        sent: 0,
        state: 'queued',
        message: '',
        retryable: false,
        resumed: false,
        evidence: null,
      })
      items.value.push(item)
      uploads.set(item.key, create(item, file))
    }
    pump()
  }

  function create(item: UploadItem, file: File): tus.Upload {
    const key = item.key
    const upload = new tus.Upload(file, {
      // Absolute, so tus-js-client can resolve the upload's Location against it.
      endpoint: `${window.location.origin}/api/v1/findings/${item.findingId}/uploads`,
      metadata: { filename: file.name, purpose: item.purpose },
      retryDelays: RETRY_DELAYS,
      removeFingerprintOnSuccess: true,
      headers: { 'Accept-Language': currentLanguage() },
      onBeforeRequest(req) {
        // The language may have been switched since the upload began.
        req.setHeader('Accept-Language', currentLanguage())
      },
      onAfterResponse(_req, res) {
        const it = find(key)
        // An answer came: whatever was wrong with the network is over.
        if (it && it.state === 'retrying' && res.getStatus() > 0) it.state = 'uploading'
      },
      onProgress(sent) {
        const it = find(key)
        if (!it) return
        it.sent = sent
        if (it.state === 'retrying' && sent > 0) it.state = 'uploading'
      },
      onShouldRetry(err) {
        const failure = uploadFailure(err)
        // Too many uploads at once: waited out as long as the server asks (see onError), not
        // with the quick retries meant for a dropped network.
        if (failure.status === 429) return false
        const again = isTransient(failure)
        const it = find(key)
        if (again && it && (it.state === 'uploading' || it.state === 'retrying')) it.state = 'retrying'
        return again
      },
      onSuccess({ lastResponse }) {
        // The server names the file the upload became (on the last PATCH, or the HEAD of an
        // upload found already complete).
        void finished(key, Number(lastResponse.getHeader('Upload-Evidence-Id')) || null)
      },
      onError(err) {
        const it = find(key)
        if (!it) return
        const failure = uploadFailure(err)
        const fromRequest = (err as { originalRequest?: unknown }).originalRequest != null
        if (!fromRequest) {
          // Not the network or the server: the file could not be read (moved, or permission
          // withdrawn). Trying again may work once it can.
          it.state = 'failed'
          it.retryable = true
          it.message = ''
        } else if (failure.status === 429) {
          // The person's other uploads (on this page or another device) fill their slots: this
          // one keeps its place and starts again when the server says to.
          it.state = 'retrying'
          it.message = failure.message
          const wait = retryAfterOf(err) ?? TOO_MANY_WAIT
          setTimeout(() => {
            const now = find(key)
            if (now && now.state === 'retrying' && uploads.get(key) === upload) {
              now.message = ''
              upload.start()
            }
          }, wait * 1000)
          return
        } else if (failure.status === 0) {
          // No answer even after the retries: the network is still down. Not a verdict on the
          // file, so it waits for the network rather than failing.
          it.state = 'stalled'
          it.retryable = true
          it.message = ''
        } else {
          it.state = 'failed'
          it.retryable = isTransient(failure) || failure.status === 401
          it.message = failure.message || `HTTP ${failure.status}`
        }
        pump()
      },
    })
    return upload
  }

  async function begin(item: UploadItem) {
    const upload = uploads.get(item.key)
    if (!upload) return
    item.state = 'uploading'
    item.message = ''
    if (!started.has(item.key)) {
      started.add(item.key)
      try {
        // The same file picked again after a reload continues where it stopped.
        const previous = (await upload.findPreviousUploads()).filter((p) => p.metadata?.purpose === item.purpose && p.uploadUrl)
        if (previous.length > 0) {
          previous.sort((a, b) => b.creationTime.localeCompare(a.creationTime))
          upload.resumeFromPreviousUpload(previous[0])
          item.resumed = true
        }
      } catch {
        // Without stored state (private browsing) it starts afresh.
      }
      // Paused or removed while looking.
      if (item.state !== 'uploading' || !uploads.has(item.key)) return
    }
    upload.start()
  }

  function pump() {
    let running = items.value.filter((i) => i.state === 'uploading' || i.state === 'retrying').length
    for (const item of items.value) {
      if (running >= PARALLEL) break
      if (item.state === 'queued') {
        running++
        void begin(item)
      }
    }
  }

  async function finished(key: number, evidenceId: number | null) {
    const item = find(key)
    if (!item) return
    item.sent = item.size
    uploads.delete(key)
    let detail: FindingDetail | null = null
    try {
      detail = await call(api.GET('/api/v1/findings/{id}', { params: { path: { id: item.findingId } } }))
      const evidence = (detail.evidence ?? []).find((e) => e.id === evidenceId)
      if (evidence) item.evidence = evidence
    } catch {
      // The file is in; only its digests cannot be shown here.
    }
    item.state = 'done'
    pump()
    for (const fn of listeners) fn(item, detail)
  }

  function pause(key: number) {
    const item = find(key)
    const upload = uploads.get(key)
    if (!item || !upload) return
    if (item.state === 'queued') {
      item.state = 'paused'
      return
    }
    if (item.state !== 'uploading' && item.state !== 'retrying' && item.state !== 'stalled') return
    item.state = 'paused'
    void upload.abort()
    pump()
  }

  /** Resumes a paused, stalled or failed-but-retryable upload from where the server has it. */
  function resume(key: number) {
    const item = find(key)
    if (!item || !uploads.has(key)) return
    if (item.state !== 'paused' && item.state !== 'stalled' && !(item.state === 'failed' && item.retryable)) return
    item.state = 'queued'
    item.message = ''
    pump()
  }

  /** Stops an upload and has the server forget what it received; or takes a finished row away. */
  function remove(key: number) {
    const item = find(key)
    if (!item) return
    const upload = uploads.get(key)
    uploads.delete(key)
    items.value = items.value.filter((i) => i.key !== key)
    if (upload && item.state !== 'done') {
      // Terminated on the server (tus termination); a refused upload may already be gone there.
      upload.abort(true).catch(() => undefined)
    }
    pump()
  }

  /** Takes away the finished rows of a finding (the list of its files shows them now). */
  function clearDone(findingId: number, purpose: Purpose) {
    items.value = items.value.filter((i) => !(i.findingId === findingId && i.purpose === purpose && i.state === 'done'))
  }

  // ---- the office's rules: how large, which kinds (shown before a file is picked) --------------
  const policy = ref<Schemas['InspectionPolicy'] | null>(null)
  let policyLoad: Promise<void> | null = null
  function loadPolicy(): Promise<void> {
    policyLoad ??= call(api.GET('/api/v1/settings/inspection-policy'))
      .then((p) => {
        policy.value = p
      })
      .catch(() => {
        // Only the hint is missing; the server still applies the rules.
        policyLoad = null
      })
    return policyLoad
  }

  // ---- the network and the page ---------------------------------------------------------------
  const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine)

  /** The connection went down: stop waiting on requests that cannot finish, say so, and wait. */
  function onOffline() {
    online.value = false
    for (const item of items.value) {
      if (item.state === 'uploading' || item.state === 'retrying') {
        item.state = 'retrying'
        void uploads.get(item.key)?.abort()
      }
    }
  }

  /** It is back: everything that waited for it goes on at once, from the server's offset. */
  function onOnline() {
    online.value = true
    for (const item of items.value) {
      const upload = uploads.get(item.key)
      if (!upload) continue
      if (item.state === 'retrying') {
        void upload.abort().then(() => {
          if (item.state === 'retrying') upload.start()
        })
      } else if (item.state === 'stalled') {
        item.state = 'queued'
      }
    }
    pump()
  }

  function onBeforeUnload(e: BeforeUnloadEvent) {
    if (unfinished.value.length === 0) return
    e.preventDefault()
    // Older browsers show their own words only when this is set.
    e.returnValue = ''
  }

  if (typeof window !== 'undefined') {
    window.addEventListener('offline', onOffline)
    window.addEventListener('online', onOnline)
    window.addEventListener('beforeunload', onBeforeUnload)
  }

  return { items, active, unfinished, online, policy, loadPolicy, of, add, pause, resume, remove, clearDone, onUploaded, onOffline, onOnline }
})
