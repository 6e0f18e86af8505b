export default {
  home: 'Home',
  org: 'Organisation',
  departments: 'Departments',
  windows: 'Service windows',
  posts: 'Posts and duties',
  people: 'People',
  supervisors: 'External supervisors',
  system: 'System',
  users: 'Accounts',
  policy: 'Security policy',
  audit: 'Audit log',
  password: 'Change password',
}
