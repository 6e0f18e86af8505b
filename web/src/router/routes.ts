// The application's pages. `perm` is the permission code a page needs (the server checks it
// again on every request); `menu` places it in the side menu. Every page is its own chunk.
import type { RouteRecordRaw } from 'vue-router'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page's title. */
    title?: string
    /** Permission code the page needs ('a|b': either); none: any logged-in user. */
    perm?: string
    /** Side-menu group ('' for top level); absent: not in the menu. */
    menu?: '' | 'org' | 'inspections' | 'rectification' | 'service' | 'system'
    icon?: string
    /** Reachable without a session. */
    public?: boolean
  }
}

export const appRoutes: RouteRecordRaw[] = [
  { path: '', name: 'home', component: () => import('@/views/home/HomeView.vue'), meta: { title: 'menu.home', menu: '', icon: 'HomeFilled' } },
  { path: 'inbox', name: 'inbox', component: () => import('@/views/inbox/InboxView.vue'), meta: { title: 'menu.inbox', menu: '', icon: 'Bell' } },
  { path: 'my-department', name: 'my-department', component: () => import('@/views/rectification/MyDepartmentView.vue'), meta: { title: 'menu.myDepartment', perm: 'report:draft', menu: '', icon: 'School' } },
  { path: 'inquiries', name: 'inquiries', component: () => import('@/views/inquiries/InquiriesView.vue'), meta: { title: 'menu.inquiries', perm: 'inquiry:handle', menu: '', icon: 'ChatDotRound' } },
  { path: 'inquiries/lapses', name: 'inquiry-lapses', component: () => import('@/views/inquiries/LapsesView.vue'), meta: { title: 'menu.inquiryLapses', perm: 'inquiry:review', menu: '', icon: 'DocumentChecked' } },
  { path: 'bulletins', name: 'bulletins', component: () => import('@/views/rectification/BulletinsView.vue'), meta: { title: 'menu.bulletins', perm: 'bulletin:read', menu: 'rectification', icon: 'Notification' } },
  { path: 'bulletins/:id(\\d+)', name: 'bulletin', component: () => import('@/views/rectification/BulletinDetailView.vue'), meta: { title: 'menu.bulletin', perm: 'bulletin:read' } },
  { path: 'rectification', name: 'orders', component: () => import('@/views/rectification/OrdersView.vue'), meta: { title: 'menu.orders', perm: 'rectification:read', menu: 'rectification', icon: 'Checked' } },
  { path: 'rectification/:id(\\d+)', name: 'order', component: () => import('@/views/rectification/OrderDetailView.vue'), meta: { title: 'menu.order', perm: 'rectification:read' } },
  { path: 'rectification/policy', name: 'rectification-policy', component: () => import('@/views/rectification/RectificationPolicyView.vue'), meta: { title: 'menu.rectificationPolicy', perm: 'rectification:manage', menu: 'rectification', icon: 'Setting' } },
  { path: 'campaigns', name: 'campaigns', component: () => import('@/views/campaigns/CampaignsView.vue'), meta: { title: 'menu.campaigns', perm: 'campaign:manage|campaign:answer', menu: 'rectification', icon: 'List' } },
  { path: 'campaigns/:id(\\d+)', name: 'campaign', component: () => import('@/views/campaigns/CampaignDetailView.vue'), meta: { title: 'menu.campaign', perm: 'campaign:manage|campaign:answer' } },
  { path: 'campaigns/participations/:id(\\d+)', name: 'participation', component: () => import('@/views/campaigns/ParticipationView.vue'), meta: { title: 'menu.participation', perm: 'campaign:answer' } },
  { path: 'service/cases', name: 'service-cases', component: () => import('@/views/service/CasesView.vue'), meta: { title: 'menu.serviceCases', perm: 'service:read', menu: 'service', icon: 'Stopwatch' } },
  { path: 'service/items', name: 'service-items', component: () => import('@/views/service/ItemsView.vue'), meta: { title: 'menu.serviceItems', perm: 'service:read', menu: 'service', icon: 'Tickets' } },
  { path: 'service/ratings', name: 'service-ratings', component: () => import('@/views/service/RatingsView.vue'), meta: { title: 'menu.serviceRatings', perm: 'service:read', menu: 'service', icon: 'Star' } },
  { path: 'service/measures', name: 'service-measures', component: () => import('@/views/service/MeasuresView.vue'), meta: { title: 'menu.serviceMeasures', perm: 'service:read', menu: 'service', icon: 'DataAnalysis' } },
  { path: 'service/tickets', name: 'service-tickets', component: () => import('@/views/service/TicketsView.vue'), meta: { title: 'menu.serviceTickets', perm: 'service:read', menu: 'service', icon: 'Memo' } },
  { path: 'service/rating-codes', name: 'service-rating-codes', component: () => import('@/views/service/RatingCodesView.vue'), meta: { title: 'menu.serviceRatingCodes', perm: 'service:manage', menu: 'service', icon: 'Grid' } },
  { path: 'service/settings', name: 'service-settings', component: () => import('@/views/service/ServiceSettingsView.vue'), meta: { title: 'menu.serviceSettings', perm: 'service:manage', menu: 'service', icon: 'Connection' } },
  { path: 'org/departments', name: 'departments', component: () => import('@/views/org/DepartmentsView.vue'), meta: { title: 'menu.departments', perm: 'org:read', menu: 'org', icon: 'OfficeBuilding' } },
  { path: 'org/windows', name: 'windows', component: () => import('@/views/org/WindowsView.vue'), meta: { title: 'menu.windows', perm: 'org:read', menu: 'org', icon: 'Shop' } },
  { path: 'org/posts', name: 'posts', component: () => import('@/views/org/PostsView.vue'), meta: { title: 'menu.posts', perm: 'org:read', menu: 'org', icon: 'Document' } },
  { path: 'org/people', name: 'people', component: () => import('@/views/org/PeopleView.vue'), meta: { title: 'menu.people', perm: 'people:read', menu: 'org', icon: 'User' } },
  { path: 'org/supervisors', name: 'supervisors', component: () => import('@/views/org/SupervisorsView.vue'), meta: { title: 'menu.supervisors', perm: 'supervisor:read', menu: 'org', icon: 'View' } },
  { path: 'inspections/record', name: 'record-finding', component: () => import('@/views/inspections/RecordView.vue'), meta: { title: 'menu.record', perm: 'inspection:record', menu: 'inspections', icon: 'Camera' } },
  { path: 'inspections/plans', name: 'plans', component: () => import('@/views/inspections/PlansView.vue'), meta: { title: 'menu.plans', perm: 'inspection:record', menu: 'inspections', icon: 'Calendar' } },
  { path: 'inspections/findings', name: 'findings', component: () => import('@/views/inspections/FindingsView.vue'), meta: { title: 'menu.findings', perm: 'finding:read', menu: 'inspections', icon: 'Warning' } },
  { path: 'inspections/policy', name: 'inspection-policy', component: () => import('@/views/inspections/InspectionPolicyView.vue'), meta: { title: 'menu.inspectionPolicy', perm: 'inspection:manage', menu: 'inspections', icon: 'Setting' } },
  { path: 'inspections/calendar', name: 'calendar', component: () => import('@/views/inspections/CalendarView.vue'), meta: { title: 'menu.calendar', perm: 'inspection:manage', menu: 'inspections', icon: 'Calendar' } },
  { path: 'system/users', name: 'users', component: () => import('@/views/system/UsersView.vue'), meta: { title: 'menu.users', perm: 'user:read', menu: 'system', icon: 'Avatar' } },
  { path: 'system/password-resets', name: 'password-resets', component: () => import('@/views/system/PasswordResetsView.vue'), meta: { title: 'menu.passwordResets', perm: 'user:write|role:grant', menu: 'system', icon: 'Key' } },
  { path: 'system/policy', name: 'policy', component: () => import('@/views/system/PolicyView.vue'), meta: { title: 'menu.policy', perm: 'policy:read', menu: 'system', icon: 'Lock' } },
  { path: 'audit', name: 'audit', component: () => import('@/views/audit/AuditView.vue'), meta: { title: 'menu.audit', perm: 'audit:read', menu: '', icon: 'Tickets' } },
  { path: 'account/two-step', name: 'two-step', component: () => import('@/views/login/TwoStepView.vue'), meta: { title: 'menu.twoStep' } },
  { path: 'password', name: 'password', component: () => import('@/views/login/PasswordView.vue'), meta: { title: 'menu.password' } },
  { path: 'forbidden', name: 'forbidden', component: () => import('@/views/error/ForbiddenView.vue'), meta: { title: 'common.forbidden' } },
  { path: ':rest(.*)*', name: 'not-found', component: () => import('@/views/error/NotFoundView.vue'), meta: { title: 'common.notFound' } },
]

export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/views/login/LoginView.vue'), meta: { public: true, title: 'login.title' } },
  { path: '/reset-password', name: 'reset-password', component: () => import('@/views/login/ResetCodeView.vue'), meta: { public: true, title: 'resets.use.title' } },
  { path: '/', component: () => import('@/layouts/AdminLayout.vue'), children: appRoutes },
]
