import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import type { RouteLocationNormalized } from 'vue-router'
import { buildMenu } from '@/layouts/menu'
import { guard } from '@/router'
import { useAuthStore } from '@/stores/auth'
import { messages } from '@/locales'

function to(path: string, meta: Record<string, unknown> = {}, name = 'x'): RouteLocationNormalized {
  return { path, fullPath: path, name, meta, params: {}, query: {}, hash: '', matched: [], redirectedFrom: undefined } as unknown as RouteLocationNormalized
}

function user(permissions: string[], must_change_password = false) {
  const auth = useAuthStore()
  auth.me = { id: 1, username: 'u', display_name: 'U', roles: [], permissions, scopes: {}, must_change_password } as never
  auth.checked = true
}

beforeEach(() => {
  setActivePinia(createPinia())
  vi.unstubAllGlobals()
})

describe('the menu', () => {
  it('shows only the pages the permission codes open', () => {
    const has = (codes: string[]) => (p?: string) => !p || codes.includes(p)
    const head = buildMenu(has(['org:read', 'people:read']))
    const paths = head.flatMap((g) => g.items.map((i) => i.path))
    expect(paths).toEqual(['/', '/inbox', '/org/departments', '/org/windows', '/org/posts', '/org/people'])
    const auditor = buildMenu(has(['audit:read'])).flatMap((g) => g.items.map((i) => i.path))
    expect(auditor).toEqual(['/', '/inbox', '/audit'])
  })
})

describe('the router guard', () => {
  it('sends a visitor without a session to login and remembers where they were going', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ code: 'unauthenticated', message: '', details: null }), { status: 401 })))
    expect(await guard(to('/org/people?q=张', { perm: 'people:read' }))).toEqual({ name: 'login', query: { redirect: '/org/people?q=张' } })
  })

  it('sends a user who must change their password to the password page first', async () => {
    user(['people:read'], true)
    expect(await guard(to('/org/people', { perm: 'people:read' }))).toEqual({ name: 'password', query: { redirect: '/org/people' } })
    expect(await guard(to('/password', {}, 'password'))).toBe(true)
  })

  it('refuses a page the user lacks the permission for', async () => {
    user(['org:read'])
    expect(await guard(to('/audit', { perm: 'audit:read' }))).toEqual({ name: 'forbidden' })
    expect(await guard(to('/org/departments', { perm: 'org:read' }))).toBe(true)
    expect(await guard(to('/login', { public: true }))).toBe(true)
  })
})

describe('the translations', () => {
  function keys(tree: Record<string, unknown>, prefix = ''): string[] {
    return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'object' && v !== null ? keys(v as Record<string, unknown>, prefix + k + '.') : [prefix + k]))
  }

  it('English has every Chinese message, and nothing else', () => {
    expect(keys(messages.en).sort()).toEqual(keys(messages['zh-CN']).sort())
  })
})
