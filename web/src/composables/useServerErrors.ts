import { reactive, ref } from 'vue'
import { ElMessage } from 'element-plus'
import { ApiError } from '@/api/client'
import { i18n } from '@/locales'

/** The message to show for any failure: the server's own words when it gave some. */
export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message
  return i18n.global.t('common.networkError')
}

/**
 * Runs a request for a form. The server's validation errors land on the fields they concern
 * (`errors.name`), anything else is shown as a message. Resolves to the result, or undefined.
 */
export function useServerErrors() {
  const errors = reactive<Record<string, string>>({})
  const busy = ref(false)

  function clear() {
    for (const k of Object.keys(errors)) delete errors[k]
  }

  async function run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    clear()
    busy.value = true
    try {
      return await fn()
    } catch (e) {
      const fields = e instanceof ApiError ? e.fieldErrors() : {}
      Object.assign(errors, fields)
      if (Object.keys(fields).length === 0 || !(e instanceof ApiError) || e.code !== 'validation_failed') {
        ElMessage.error(messageOf(e))
      }
      return undefined
    } finally {
      busy.value = false
    }
  }

  return { errors, busy, run, clear }
}
