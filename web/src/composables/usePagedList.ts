import { reactive, ref, shallowRef } from 'vue'
import { messageOf } from './useServerErrors'
import { ElMessage } from 'element-plus'

export interface PageOf<T> {
  items: T[]
  total: number
  page: number
  page_size: number
}

/**
 * A list that pages, filters and sorts on the server. `filters` are sent as query parameters
 * (empty strings and nulls are left out); `reload()` fetches the current page.
 */
export function usePagedList<T, F extends Record<string, unknown>>(
  fetchPage: (query: F & { page: number; page_size: number; sort?: string }) => Promise<PageOf<T>>,
  initial: F,
  pageSize = 20,
) {
  const filters = reactive({ ...initial }) as F
  const items = shallowRef<T[]>([])
  const total = ref(0)
  const page = ref(1)
  const size = ref(pageSize)
  const sort = ref<string | undefined>()
  const loading = ref(false)

  function query() {
    const q: Record<string, unknown> = { page: page.value, page_size: size.value }
    for (const [k, v] of Object.entries(filters)) if (v !== '' && v !== null && v !== undefined) q[k] = v
    if (sort.value) q.sort = sort.value
    return q as F & { page: number; page_size: number; sort?: string }
  }

  async function reload() {
    loading.value = true
    try {
      const r = await fetchPage(query())
      items.value = r.items
      total.value = r.total
    } catch (e) {
      ElMessage.error(messageOf(e))
    } finally {
      loading.value = false
    }
  }

  function search() {
    page.value = 1
    return reload()
  }

  function resetFilters() {
    Object.assign(filters, initial)
    return search()
  }

  /** For el-table's sort-change: `{prop, order}` → `name` / `-name`. */
  function onSort({ prop, order }: { prop: string; order: 'ascending' | 'descending' | null }) {
    sort.value = order ? (order === 'descending' ? '-' : '') + prop : undefined
    return reload()
  }

  function onPage(p: number) {
    page.value = p
    return reload()
  }

  function onSize(s: number) {
    size.value = s
    page.value = 1
    return reload()
  }

  return { filters, items, total, page, size, loading, reload, search, resetFilters, onSort, onPage, onSize, query }
}
