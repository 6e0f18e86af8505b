// Logging in with two-step verification (decision 0029): the password step, then the code from
// the authenticator app or a recovery code, mounted against a stand-in server; the guard and the
// request wrapper that send a user who must set it up to the set-up page.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { createMemoryHistory, createRouter, type RouteLocationNormalized, type Router } from 'vue-router'
import { i18n } from '@/locales'
import { api, call, setSecondFactorRequiredHandler } from '@/api/client'
import { guard } from '@/router'
import { useAuthStore } from '@/stores/auth'
import LoginView from '@/views/login/LoginView.vue'

interface Call {
  method: string
  path: string
  body: any
}
let calls: Call[] = []
let replies: Record<string, (c: Call) => [number, unknown]> = {}

function serve() {
  vi.stubGlobal(
    'fetch',
    vi.fn(async (req: Request) => {
      const url = new URL(req.url)
      const text = req.method === 'GET' ? '' : await req.text()
      const c: Call = { method: req.method, path: url.pathname, body: text ? JSON.parse(text) : undefined }
      calls.push(c)
      const reply = replies[`${c.method} ${c.path}`]
      const [status, body] = reply ? reply(c) : [404, { code: 'not_found', message: 'not found', details: null }]
      return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
    }),
  )
}

const me = {
  id: 1,
  username: 'xnb_admin',
  display_name: '效能办管理员',
  roles: [{ code: 'office_admin', label: '效能办管理员' }],
  permissions: ['org:read'],
  scopes: {},
  must_change_password: false,
  second_factor_enabled: true,
  must_enrol_second_factor: false,
}
const challenge = { second_factor_required: true, expires_at: '2026-12-06T08:05:00Z' }

let pinia: Pinia
let router: Router
let mounted: VueWrapper[] = []

async function show() {
  router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', name: 'login', component: LoginView },
      { path: '/account/two-step', name: 'two-step', component: { render: () => null } },
      { path: '/reset-password', name: 'reset-password', component: { render: () => null } },
      { path: '/:any(.*)*', name: 'page', component: { render: () => null } },
    ],
  })
  await router.push({ path: '/login', query: { redirect: '/org/departments' } })
  const w = mount({ template: '<router-view />' }, { attachTo: document.body, global: { plugins: [pinia, i18n, router] } })
  mounted.push(w)
  await flushPromises()
  return w
}

function type(selector: string, value: string) {
  const el = document.body.querySelector(selector) as HTMLInputElement | null
  if (!el) throw new Error('nothing matches ' + selector)
  el.value = value
  el.dispatchEvent(new Event('input'))
}

async function submit(selector = 'form') {
  const form = document.body.querySelector(selector) as HTMLFormElement
  form.dispatchEvent(new Event('submit'))
  await flushPromises()
}

async function passwordStep() {
  type('#login-username', 'xnb_admin')
  type('#login-password', 'Xiaoneng@2026')
  await flushPromises()
  await submit()
}

const errorText = () => document.body.querySelector('[data-test="login-error"]')?.textContent ?? ''

beforeEach(() => {
  pinia = createPinia()
  setActivePinia(pinia)
  i18n.global.locale.value = 'zh-CN'
  calls = []
  replies = {}
  serve()
})

afterEach(() => {
  for (const w of mounted) w.unmount()
  mounted = []
  document.body.innerHTML = ''
  vi.unstubAllGlobals()
})

describe('the login page with two-step verification', () => {
  it('asks for the app’s code after the password, refuses a wrong one, and logs in with the right one', async () => {
    replies['POST /api/v1/auth/login'] = () => [200, challenge]
    let tries = 0
    replies['POST /api/v1/auth/login/second-factor'] = (c) =>
      ++tries === 1
        ? [401, { code: 'invalid_second_factor', message: '验证码不正确或已使用过，再错 4 次账号将被锁定', details: { attempts_left: 4 } }]
        : c.body.code === '654321'
          ? [200, me]
          : [500, { code: 'internal_error', message: 'unexpected ' + c.body.code, details: null }]
    await show()
    await passwordStep()
    expect(document.body.querySelector('[data-test="login-code-form"]')).not.toBeNull()
    expect(useAuthStore().me).toBeNull()
    expect(router.currentRoute.value.name).toBe('login')

    type('#login-code', '123456')
    await submit('[data-test="login-code-form"]')
    expect(calls.at(-1)).toMatchObject({ path: '/api/v1/auth/login/second-factor', body: { code: '123456' } })
    expect(errorText()).toContain('再错 4 次')
    // A wrong code is not a lost session: the code step stays.
    expect(router.currentRoute.value.name).toBe('login')
    expect(document.body.querySelector('[data-test="login-code-form"]')).not.toBeNull()

    type('#login-code', '654321')
    await submit('[data-test="login-code-form"]')
    expect(useAuthStore().me?.username).toBe('xnb_admin')
    expect(router.currentRoute.value.fullPath).toBe('/org/departments')
  })

  it('takes a recovery code instead', async () => {
    replies['POST /api/v1/auth/login'] = () => [200, challenge]
    replies['POST /api/v1/auth/login/second-factor'] = () => [200, me]
    await show()
    await passwordStep()
    ;(document.body.querySelector('[data-test="login-use-recovery"]') as HTMLElement).click()
    await flushPromises()
    expect(document.body.querySelector('#login-code')).toBeNull()
    type('#login-recovery', 'abcde-fghjk')
    await submit('[data-test="login-code-form"]')
    expect(calls.at(-1)?.body).toEqual({ code: 'abcde-fghjk' })
    expect(router.currentRoute.value.fullPath).toBe('/org/departments')
  })

  it('starts again from the password when the wait ran out', async () => {
    replies['POST /api/v1/auth/login'] = () => [200, challenge]
    replies['POST /api/v1/auth/login/second-factor'] = () => [
      401,
      { code: 'login_challenge_expired', message: '验证已超时，请重新输入用户名和密码', details: null },
    ]
    await show()
    await passwordStep()
    type('#login-code', '123456')
    await submit('[data-test="login-code-form"]')
    expect(document.body.querySelector('[data-test="login-code-form"]')).toBeNull()
    expect(document.body.querySelector('#login-password')).not.toBeNull()
    expect(errorText()).toContain('验证已超时')
  })

  it('sends a user who must set up two-step verification to the set-up page', async () => {
    replies['POST /api/v1/auth/login'] = () => [200, { ...me, second_factor_enabled: false, must_enrol_second_factor: true }]
    await show()
    await passwordStep()
    expect(router.currentRoute.value.name).toBe('two-step')
    expect(router.currentRoute.value.query.redirect).toBe('/org/departments')
  })
})

describe('holding a session to the set-up', () => {
  function to(path: string, name = 'x'): RouteLocationNormalized {
    return { path, fullPath: path, name, meta: {}, params: {}, query: {}, hash: '', matched: [], redirectedFrom: undefined } as unknown as RouteLocationNormalized
  }

  it('the guard keeps the user on the set-up page until it is done', async () => {
    const auth = useAuthStore()
    auth.me = { ...me, second_factor_enabled: false, must_enrol_second_factor: true } as never
    auth.checked = true
    expect(await guard(to('/org/departments'))).toEqual({ name: 'two-step', query: { redirect: '/org/departments' } })
    expect(await guard(to('/account/two-step', 'two-step'))).toBe(true)
    auth.setSecondFactor(true, false)
    expect(await guard(to('/org/departments'))).toBe(true)
  })

  it('the request wrapper reports 403 second_factor_required', async () => {
    replies['GET /api/v1/inbox'] = () => [403, { code: 'second_factor_required', message: '请先启用两步验证', details: null }]
    const seen: string[] = []
    setSecondFactorRequiredHandler((e) => seen.push(e.code))
    await expect(call(api.GET('/api/v1/inbox'))).rejects.toMatchObject({ status: 403, code: 'second_factor_required' })
    expect(seen).toEqual(['second_factor_required'])
  })
})
