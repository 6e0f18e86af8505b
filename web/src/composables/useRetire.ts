import { ElMessage, ElMessageBox } from 'element-plus'
import { i18n } from '@/locales'
import { messageOf } from './useServerErrors'

/** Asks why, then retires a record through `retire(reason)`. True when it was retired. */
export async function confirmRetire(name: string, retire: (reason: string) => Promise<unknown>): Promise<boolean> {
  const t = i18n.global.t
  let reason: string
  try {
    const r = await ElMessageBox.prompt(t('common.retireConfirm', { name }), t('common.retire'), {
      inputPlaceholder: t('common.retireReasonHint'),
      inputValidator: (v: string) => (v && v.trim() ? true : t('common.retireReasonHint')),
      confirmButtonText: t('common.retire'),
      cancelButtonText: t('common.cancel'),
      type: 'warning',
    })
    reason = (r as { value: string }).value
  } catch {
    return false
  }
  try {
    await retire(reason.trim())
    ElMessage.success(t('common.retiredOk'))
    return true
  } catch (e) {
    ElMessage.error(messageOf(e))
    return false
  }
}
