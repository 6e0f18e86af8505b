import { appRoutes } from '@/router/routes'

export interface MenuItem {
  path: string
  title: string
  icon?: string
}

export interface MenuGroup {
  key: string
  title: string
  items: MenuItem[]
}

const GROUPS: { key: '' | 'org' | 'inspections' | 'rectification' | 'service' | 'system'; title: string }[] = [
  { key: '', title: '' },
  { key: 'inspections', title: 'menu.inspections' },
  { key: 'rectification', title: 'menu.rectification' },
  { key: 'service', title: 'menu.service' },
  { key: 'org', title: 'menu.org' },
  { key: 'system', title: 'menu.system' },
]

/** The side menu for a user: only pages their permission codes open. */
export function buildMenu(has: (perm: string | undefined) => boolean): MenuGroup[] {
  return GROUPS.map((g) => ({
    key: g.key,
    title: g.title,
    items: appRoutes
      .filter((r) => r.meta?.menu === g.key && has(r.meta?.perm))
      .map((r) => ({ path: '/' + r.path, title: r.meta!.title!, icon: r.meta!.icon })),
  })).filter((g) => g.items.length > 0)
}
