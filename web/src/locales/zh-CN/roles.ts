export default {
  office_admin: '效能办管理员',
  inspector: '暗访人员',
  dept_head: '部门负责人',
  dept_liaison: '部门联络员',
  staff: '机关干部',
  city_leader: '市领导',
  sys_admin: '系统管理员',
  sec_admin: '安全管理员',
  audit_admin: '安全审计员',
}
