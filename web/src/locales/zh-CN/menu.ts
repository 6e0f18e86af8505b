export default {
  home: '首页',
  org: '组织机构',
  departments: '部门管理',
  windows: '服务窗口',
  posts: '岗位职责',
  people: '人员名册',
  supervisors: '外部监督员',
  system: '系统管理',
  users: '账号管理',
  policy: '安全策略',
  audit: '审计日志',
  password: '修改密码',
}
