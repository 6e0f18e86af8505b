import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { api, call } from '@/api/client'
import { i18n } from '@/locales'
import { useAuthStore } from '@/stores/auth'
import { useLocaleStore } from '@/stores/locale'

const me = {
  id: 3,
  username: 'sj_head',
  display_name: '市场监管局局长',
  department_id: 7,
  department_name: '市市场监督管理局',
  person_id: 78,
  roles: [{ code: 'dept_head', label: '部门负责人' }],
  permissions: ['org:read', 'people:export', 'people:read'],
  scopes: { 'org:read': 'department_tree' },
  data_scope: 'department_tree',
  must_change_password: false,
}

function respond(status: number, body: unknown) {
  vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })))
}

function clearCookies() {
  for (const c of document.cookie.split(';')) {
    const name = c.split('=')[0].trim()
    if (name) document.cookie = `${name}=; Path=/; Max-Age=0`
  }
}

beforeEach(() => {
  setActivePinia(createPinia())
  localStorage.clear()
  clearCookies()
  vi.unstubAllGlobals()
})

describe('the auth store', () => {
  it('makes no request on a first visit, when no session was ever set', async () => {
    const fetch = vi.fn(async () => new Response('{}', { status: 500 }))
    vi.stubGlobal('fetch', fetch)
    const auth = useAuthStore()
    expect(await auth.load()).toBeNull()
    expect(auth.checked).toBe(true)
    expect(fetch).not.toHaveBeenCalled()
  })

  it('asks who we are when the server said a session was set', async () => {
    document.cookie = 'xn_signed_in=1; Path=/'
    respond(200, me)
    const auth = useAuthStore()
    expect((await auth.load())?.username).toBe('sj_head')
    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('knows nobody is logged in when the server says 401, and drops the stale hint', async () => {
    document.cookie = 'xn_signed_in=1; Path=/'
    respond(401, { code: 'unauthenticated', message: '请先登录', details: null })
    const auth = useAuthStore()
    expect(await auth.load()).toBeNull()
    expect(auth.checked).toBe(true)
    expect(auth.has('people:read')).toBe(false)
    expect(document.cookie).not.toContain('xn_signed_in=1')
    // The next page load asks nothing.
    setActivePinia(createPinia())
    expect(await useAuthStore().load()).toBeNull()
    expect(fetch).toHaveBeenCalledTimes(1)
  })

  it('keeps the user and their permission codes after login', async () => {
    respond(200, me)
    const auth = useAuthStore()
    await auth.login('sj_head', 'secret')
    expect(auth.me?.display_name).toBe('市场监管局局长')
    expect(auth.has('people:read')).toBe(true)
    expect(auth.has('people:write')).toBe(false)
    expect(auth.has(undefined)).toBe(true)
  })

  it('forgets the user on logout even when the server is unreachable', async () => {
    respond(200, me)
    const auth = useAuthStore()
    await auth.login('sj_head', 'secret')
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('network down'))))
    await auth.logout().catch(() => undefined)
    expect(auth.me).toBeNull()
  })

  it('clears the forced change after a password change', async () => {
    respond(200, { ...me, must_change_password: true })
    const auth = useAuthStore()
    await auth.login('sj_head', 'Temp#2026pw')
    respond(204, null)
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 204 })))
    await auth.changePassword('Temp#2026pw', 'Mine#2026pw')
    expect(auth.me?.must_change_password).toBe(false)
  })
})

describe('the language store', () => {
  it('remembers the language and sends it to the server', async () => {
    const locale = useLocaleStore()
    expect(locale.locale).toBe('zh-CN')
    locale.set('en')
    expect(localStorage.getItem('xn.locale')).toBe('en')
    expect(i18n.global.locale.value).toBe('en')
    expect(document.documentElement.lang).toBe('en')
    const fetch = vi.fn(async (_r: Request) => new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } }))
    vi.stubGlobal('fetch', fetch)
    await call(api.GET('/api/v1/me'))
    expect(fetch.mock.calls[0][0].headers.get('Accept-Language')).toBe('en')
    // A new page load starts in the remembered language.
    setActivePinia(createPinia())
    expect(useLocaleStore().locale).toBe('en')
    useLocaleStore().set('zh-CN')
  })

  it('ignores a remembered value that is not a language', () => {
    localStorage.setItem('xn.locale', 'klingon')
    expect(useLocaleStore().locale).toBe('zh-CN')
  })
})
