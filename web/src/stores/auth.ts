import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, call, ApiError, type Schemas } from '@/api/client'

export type Me = Schemas['Me']

/** What the password step of a login gave: the user, logged in, or a wait for the code from the
 * authenticator app (or a recovery code) until `expires_at`. */
export type LoginStep = { me: Me } | { secondFactorUntil: string }

/** The hint the server sets beside the session cookie at login and clears at logout. The session
 * cookie is HttpOnly, so this is how the app knows whether asking `/me` is worth a request: a
 * first visit makes no request that is bound to fail. It is no secret and the server never reads
 * it; a stale one costs one 401, after which it is dropped. */
export const SIGNED_IN_COOKIE = 'xn_signed_in'

export function signedInHint(): boolean {
  return document.cookie.split(';').some((c) => c.trim() === `${SIGNED_IN_COOKIE}=1`)
}

function dropSignedInHint() {
  const secure = window.location.protocol === 'https:' ? '; Secure' : ''
  document.cookie = `${SIGNED_IN_COOKIE}=; Path=/; Max-Age=0; SameSite=Strict${secure}`
}

/** The logged-in user, their permission codes, and the session's life. */
export const useAuthStore = defineStore('auth', () => {
  const me = ref<Me | null>(null)
  const checked = ref(false)
  const permissions = computed(() => new Set(me.value?.permissions ?? []))

  function has(code: string | undefined): boolean {
    // 'a|b': either will do.
    return !code || code.split('|').some((c) => permissions.value.has(c))
  }

  /** Asks the server who we are; no session means null, not an error. Without the signed-in
   * hint there is no session to ask about, so no request is made. */
  async function load(): Promise<Me | null> {
    if (!signedInHint()) {
      me.value = null
      checked.value = true
      return null
    }
    try {
      me.value = await call(api.GET('/api/v1/me'))
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e
      dropSignedInHint()
      me.value = null
    } finally {
      checked.value = true
    }
    return me.value
  }

  async function login(username: string, password: string): Promise<LoginStep> {
    const answer = await call(api.POST('/api/v1/auth/login', { body: { username, password } }))
    if ('second_factor_required' in answer) return { secondFactorUntil: answer.expires_at }
    me.value = answer
    checked.value = true
    return { me: answer }
  }

  /** The second step of a login: the six digits from the app, or a recovery code. */
  async function loginSecondFactor(code: string): Promise<Me> {
    me.value = await call(api.POST('/api/v1/auth/login/second-factor', { body: { code } }))
    checked.value = true
    return me.value
  }

  /** Two-step verification was set up (or the server says it must be). */
  function setSecondFactor(enabled: boolean, mustEnrol: boolean) {
    if (me.value) me.value = { ...me.value, second_factor_enabled: enabled, must_enrol_second_factor: mustEnrol }
  }

  async function logout() {
    try {
      await call(api.POST('/api/v1/auth/logout'))
    } finally {
      forget()
    }
  }

  async function changePassword(current_password: string, new_password: string) {
    await call(api.POST('/api/v1/auth/password', { body: { current_password, new_password } }))
    if (me.value) me.value = { ...me.value, must_change_password: false }
  }

  /** The server ended the session (expired, logged out elsewhere). */
  function forget() {
    dropSignedInHint()
    me.value = null
    checked.value = true
  }

  return { me, checked, permissions, has, load, login, loginSecondFactor, setSecondFactor, logout, changePassword, forget }
})
