import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'element-plus/theme-chalk/base.css'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import './styles.css'
import App from './App.vue'
import { i18n } from './locales'
import { router } from './router'

createApp(App).use(createPinia()).use(i18n).use(router).mount('#app')
