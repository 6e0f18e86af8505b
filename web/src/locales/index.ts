// Messages live in one file per module and language (locales/zh-CN/people.ts, locales/en/people.ts)
// and are addressed as `people.title`. zh-CN is the default; en must have every key (a unit test
// checks).
import { createI18n } from 'vue-i18n'

type Tree = { [key: string]: string | Tree }

function byModule(files: Record<string, unknown>): Record<string, Tree> {
  const out: Record<string, Tree> = {}
  for (const [path, messages] of Object.entries(files)) {
    const name = path.split('/').pop()!.replace(/\.ts$/, '')
    out[name] = messages as Tree
  }
  return out
}

export const messages = {
  'zh-CN': byModule(import.meta.glob('./zh-CN/*.ts', { eager: true, import: 'default' })),
  en: byModule(import.meta.glob('./en/*.ts', { eager: true, import: 'default' })),
}

export type Locale = keyof typeof messages
export const LOCALES: Locale[] = ['zh-CN', 'en']

export const i18n = createI18n({
  legacy: false,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages,
  missingWarn: false,
  fallbackWarn: false,
})
