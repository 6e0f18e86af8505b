export default {
  title: '安全策略',
  intro: '密码规则、登录失败锁定和会话时限。保存后立即生效，修改前后的取值记入审计日志。',
  readOnly: '您的角色只能查看安全策略；修改须由安全管理员进行。',
  passwordRules: '密码规则',
  lockout: '登录失败锁定',
  session: '会话时限',
  limits: '登录失败限流',
  reload: '放弃修改',
  fields: {
    min_length: { label: '密码最小长度', unit: '个字符', hint: '密码至少包含的字符数（8–64）。' },
    min_classes: {
      label: '字符类别数',
      unit: '类',
      hint: '密码须包含小写字母、大写字母、数字、符号四类中的至少几类（1–4）。',
    },
    expiry_days: { label: '密码有效期', unit: '天', hint: '超过该天数须修改密码；0 表示永不过期（最长 365 天）。' },
    lockout_threshold: { label: '锁定阈值', unit: '次', hint: '连续登录失败达到该次数即锁定账号（3–20）。' },
    lockout_minutes: { label: '锁定时长', unit: '分钟', hint: '账号锁定持续的时间，到期自动解锁；系统管理员也可提前解锁（1–1440）。' },
    idle_minutes: { label: '空闲超时', unit: '分钟', hint: '会话持续无操作超过该时间即自动退出（5–480）。' },
    absolute_hours: { label: '会话最长时间', unit: '小时', hint: '无论是否有操作，登录后超过该时间须重新登录（1–24）。' },
    failure_window_minutes: { label: '计数窗口', unit: '分钟', hint: '按地址和全局统计登录失败次数的时间窗口（1–1440）。' },
    address_failure_limit: {
      label: '单个地址失败上限',
      unit: '次',
      hint: '同一地址在一个窗口内登录失败达到该次数后，该地址须待窗口结束才能再登录，无论尝试哪个用户名（5–100000）。',
    },
    global_failure_limit: {
      label: '全局失败上限',
      unit: '次',
      hint: '全系统在一个窗口内登录失败达到该次数后，所有登录暂停至窗口结束，以抵御针对大量账号的密码喷洒（5–1000000，不小于单个地址上限）。',
    },
  },
}
