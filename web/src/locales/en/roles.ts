export default {
  office_admin: 'Efficiency Office admin',
  inspector: 'Inspector',
  dept_head: 'Department head',
  dept_liaison: 'Department liaison',
  staff: 'Staff',
  city_leader: 'City leader',
  sys_admin: 'System admin',
  sec_admin: 'Security admin',
  audit_admin: 'Audit admin',
}
