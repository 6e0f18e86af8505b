import { defineStore } from 'pinia'
import { ref } from 'vue'
import { setLanguage } from '@/api/client'
import { i18n, LOCALES, type Locale } from '@/locales'

const KEY = 'xn.locale'

function initial(): Locale {
  const saved = localStorage.getItem(KEY)
  return LOCALES.includes(saved as Locale) ? (saved as Locale) : 'zh-CN'
}

/** The UI language: remembered in this browser, sent to the server with every request. */
export const useLocaleStore = defineStore('locale', () => {
  const locale = ref<Locale>(initial())

  function apply(l: Locale) {
    locale.value = l
    i18n.global.locale.value = l
    setLanguage(l === 'en' ? 'en' : 'zh-CN')
    document.documentElement.lang = l
    localStorage.setItem(KEY, l)
  }

  apply(locale.value)
  return { locale, set: apply }
})
