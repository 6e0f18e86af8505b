export default {
  title: 'Security policy',
  intro: 'Password rules, lockout after failed logins, and session limits. Changes take effect at once; the values before and after are recorded in the audit log.',
  readOnly: 'Your role can only view the security policy; the security admin changes it.',
  passwordRules: 'Password rules',
  lockout: 'Lockout after failed logins',
  session: 'Session limits',
  limits: 'Limits on failed logins',
  reload: 'Discard changes',
  fields: {
    min_length: { label: 'Minimum length', unit: 'characters', hint: 'The fewest characters a password may have (8–64).' },
    min_classes: {
      label: 'Character classes',
      unit: 'classes',
      hint: 'How many of lower case, upper case, digits and symbols a password must contain (1–4).',
    },
    expiry_days: { label: 'Password expiry', unit: 'days', hint: 'A password must be changed after this many days; 0 means never (at most 365).' },
    lockout_threshold: { label: 'Lockout threshold', unit: 'attempts', hint: 'Failed logins in a row that lock the account (3–20).' },
    lockout_minutes: {
      label: 'Lockout duration',
      unit: 'minutes',
      hint: 'How long a lock lasts before it lifts by itself; the system admin can unlock earlier (1–1440).',
    },
    idle_minutes: { label: 'Idle timeout', unit: 'minutes', hint: 'A session ends after this long without activity (5–480).' },
    absolute_hours: { label: 'Maximum session length', unit: 'hours', hint: 'A session ends this long after login, whatever the activity (1–24).' },
    failure_window_minutes: { label: 'Counting window', unit: 'minutes', hint: 'The window in which failed logins are counted per address and overall (1–1440).' },
    address_failure_limit: {
      label: 'Failures per address',
      unit: 'attempts',
      hint: 'After this many failed logins from one address within a window, that address may not log in until the window ends, whatever user names it tries (5–100000).',
    },
    global_failure_limit: {
      label: 'Failures overall',
      unit: 'attempts',
      hint: 'After this many failed logins on the whole system within a window, all logins pause until the window ends: the brake on password spraying across accounts (5–1000000, not below the per-address limit).',
    },
  },
}
