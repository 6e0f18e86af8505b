import { createRouter, createWebHistory, type RouteLocationNormalized } from 'vue-router'
import { setSecondFactorRequiredHandler, setUnauthorizedHandler } from '@/api/client'
import { i18n } from '@/locales'
import { useAuthStore } from '@/stores/auth'
import { routes } from './routes'

export const router = createRouter({ history: createWebHistory(), routes })

/** Where the guard sends a user before `to`, or true to let them through. */
export async function guard(to: RouteLocationNormalized): Promise<true | string | { name: string; query?: Record<string, string> }> {
  if (to.meta.public) return true
  const auth = useAuthStore()
  if (!auth.checked) await auth.load()
  if (!auth.me) return { name: 'login', query: { redirect: to.fullPath } }
  if (auth.me.must_change_password && to.name !== 'password') return { name: 'password', query: { redirect: to.fullPath } }
  if (auth.me.must_enrol_second_factor && !auth.me.must_change_password && to.name !== 'two-step') {
    return { name: 'two-step', query: { redirect: to.fullPath } }
  }
  if (!auth.has(to.meta.perm)) return { name: 'forbidden' }
  return true
}

router.beforeEach(guard)
router.afterEach((to) => {
  const title = to.meta.title ? i18n.global.t(to.meta.title) : ''
  document.title = title ? `${title} · ${i18n.global.t('common.appName')}` : i18n.global.t('common.appName')
})

// When the server ends the session, go to login and come back to where the user was.
setUnauthorizedHandler(() => {
  const auth = useAuthStore()
  auth.forget()
  const current = router.currentRoute.value
  if (!current.meta.public) {
    void router.replace({ name: 'login', query: { redirect: current.fullPath, expired: '1' } })
  }
})

// When the server holds the session to setting up two-step verification, go and set it up, then
// come back.
setSecondFactorRequiredHandler(() => {
  const auth = useAuthStore()
  auth.setSecondFactor(false, true)
  const current = router.currentRoute.value
  if (!current.meta.public && current.name !== 'two-step') {
    void router.replace({ name: 'two-step', query: { redirect: current.fullPath } })
  }
})
