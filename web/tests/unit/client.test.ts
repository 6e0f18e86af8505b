import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, call, fetchFile, setLanguage, setUnauthorizedHandler, toApiError } from '@/api/client'

function reply(status: number, body: unknown) {
  return vi.fn(async (_req: Request) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }))
}

afterEach(() => {
  vi.unstubAllGlobals()
  setUnauthorizedHandler(() => {})
  setLanguage('zh-CN')
})

describe('the request wrapper', () => {
  it('returns the data of a successful call', async () => {
    vi.stubGlobal('fetch', reply(200, { total: 3, items: [], page: 1, page_size: 20 }))
    const page = await call(api.GET('/api/v1/people'))
    expect(page.total).toBe(3)
  })

  it('throws the server message, code and field errors of a failed call', async () => {
    vi.stubGlobal(
      'fetch',
      reply(422, {
        code: 'validation_failed',
        message: '编码须为 1 到 32 位字母、数字、- 或 _',
        details: [
          { field: 'code', code: 'invalid_code', message: '编码须为 1 到 32 位字母、数字、- 或 _' },
          { field: 'name', code: 'required', message: '不能为空' },
        ],
      }),
    )
    const err = await call(api.POST('/api/v1/departments', { body: { code: '市局', name: '', category: 'general' } })).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(422)
    expect(err.code).toBe('validation_failed')
    expect(err.message).toBe('编码须为 1 到 32 位字母、数字、- 或 _')
    expect(err.fieldErrors()).toEqual({ code: '编码须为 1 到 32 位字母、数字、- 或 _', name: '不能为空' })
  })

  it('puts a conflict on the field the server names', () => {
    const err = new ApiError(409, { code: 'already_exists', message: '编码 已被使用', details: { field: 'code' } })
    expect(err.fieldErrors()).toEqual({ code: '编码 已被使用' })
  })

  it('survives an error that is not JSON', async () => {
    const err = await toApiError(new Response('Bad Gateway', { status: 502, statusText: 'Bad Gateway' }))
    expect(err.status).toBe(502)
    expect(err.code).toBe('http_502')
    expect(err.message).toBe('Bad Gateway')
  })

  it('sends the chosen language with every request', async () => {
    const fetch = reply(200, {})
    vi.stubGlobal('fetch', fetch)
    setLanguage('en')
    await call(api.GET('/api/v1/me'))
    expect((fetch.mock.calls[0][0] as Request).headers.get('Accept-Language')).toBe('en')
  })

  it('reports a lost session, except for a failed login', async () => {
    const lost = vi.fn()
    setUnauthorizedHandler(lost)
    vi.stubGlobal('fetch', reply(401, { code: 'session_expired', message: '登录已过期，请重新登录', details: null }))
    await call(api.GET('/api/v1/me')).catch(() => undefined)
    expect(lost).toHaveBeenCalledTimes(1)
    expect(lost.mock.calls[0][0].code).toBe('session_expired')
    vi.stubGlobal('fetch', reply(401, { code: 'invalid_credentials', message: '用户名或密码错误', details: null }))
    const err = await call(api.POST('/api/v1/auth/login', { body: { username: 'x', password: 'y' } })).catch((e) => e)
    expect(err.code).toBe('invalid_credentials')
    expect(lost).toHaveBeenCalledTimes(1)
  })

  it('raises file request failures the same way', async () => {
    vi.stubGlobal('fetch', reply(422, { code: 'import_rejected', message: '文件中有 2 处错误，未导入任何数据', details: [{ row: 3 }] }))
    const err = await fetchFile('/api/v1/people/import', { method: 'POST' }).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.details).toEqual([{ row: 3 }])
  })
})
