//! The organisation's value types: department categories, post types, supervisor kinds, and the
//! checks that codes, names and phone numbers must pass before they exist anywhere else.

use crate::ValidationError;

labelled_enum! {
    /// Department category (部门类别). The first two are the speech's focus.
    DepartmentCategory {
        LawEnforcement = "law_enforcement", "执法管理", "Law enforcement and regulation";
        EconomicService = "economic_service", "经济服务", "Economic service";
        WindowService = "window_service", "窗口服务", "Window service";
        General = "general", "综合", "General";
    }
}

labelled_enum! {
    /// Post type (岗位类型), which picks the tier of individual assessment.
    PostType {
        Leadership = "leadership", "领导班子", "Leadership team";
        MiddleManager = "middle_manager", "中层", "Middle manager";
        WindowStaff = "window_staff", "窗口人员", "Window staff";
        LawEnforcementOfficer = "law_enforcement_officer", "执法人员", "Law-enforcement officer";
        GeneralStaff = "general_staff", "一般工作人员", "General staff";
    }
}

labelled_enum! {
    /// Kind of external supervisor (外部监督员).
    SupervisorKind {
        EfficiencySupervisor = "efficiency_supervisor", "效能监督员", "Efficiency supervisor";
        NpcDeputy = "npc_deputy", "人大代表", "NPC deputy";
        CppccMember = "cppcc_member", "政协委员", "CPPCC member";
        EnterpriseRep = "enterprise_rep", "企业代表", "Enterprise representative";
    }
}

labelled_enum! {
    /// Records are retired, never deleted.
    Status {
        Active = "active", "在用", "Active";
        Retired = "retired", "已停用", "Retired";
    }
}

/// An external supervisor serves while active and within their term of appointment; only then
/// does their account read or record anything of the regime.
pub fn supervisor_serving(
    status: Status,
    term: (chrono::NaiveDate, chrono::NaiveDate),
    today: chrono::NaiveDate,
) -> bool {
    status == Status::Active && term.0 <= today && today <= term.1
}

labelled_enum! {
    Gender {
        Male = "male", "男", "Male";
        Female = "female", "女", "Female";
    }
}

/// A stable code: 1–32 of A–Z, 0–9, `-` and `_`. Upper-cased on the way in.
pub fn parse_code(field: &str, raw: &str) -> Result<String, ValidationError> {
    let s = raw.trim().to_ascii_uppercase();
    let ok = !s.is_empty()
        && s.len() <= 32
        && s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(s)
    } else {
        Err(ValidationError::new(
            field,
            "invalid_code",
            "编码须为 1 到 32 位字母、数字、- 或 _",
            "A code is 1 to 32 letters, digits, - or _",
        ))
    }
}

/// A name: trimmed, 1–`max` characters, no control characters.
pub fn parse_name(field: &str, raw: &str, max: usize) -> Result<String, ValidationError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(ValidationError::new(field, "required", "不能为空", "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(ValidationError::new(
            field,
            "too_long",
            format!("不能超过 {max} 个字符"),
            format!("must be at most {max} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(ValidationError::new(field, "invalid_characters", "含有不可见字符", "contains control characters"));
    }
    Ok(s.to_owned())
}

/// Optional free text (duties, notes): trimmed, at most `max` characters; empty becomes "".
pub fn parse_text(field: &str, raw: &str, max: usize) -> Result<String, ValidationError> {
    let s = raw.trim();
    if s.chars().count() > max {
        return Err(ValidationError::new(
            field,
            "too_long",
            format!("不能超过 {max} 个字符"),
            format!("must be at most {max} characters"),
        ));
    }
    Ok(s.to_owned())
}

/// A mainland mobile number: 11 digits starting with 1.
pub fn parse_mobile(field: &str, raw: &str) -> Result<String, ValidationError> {
    let s: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    let s = s.strip_prefix("+86").unwrap_or(&s).to_owned();
    if s.len() == 11 && s.starts_with('1') && s.chars().all(|c| c.is_ascii_digit()) {
        Ok(s)
    } else {
        Err(ValidationError::new(
            field,
            "invalid_mobile",
            "手机号须为以 1 开头的 11 位数字",
            "A mobile number is 11 digits starting with 1",
        ))
    }
}

/// `13812345678` → `138****5678`. Anything else is masked whole.
pub fn mask_mobile(mobile: &str) -> String {
    if mobile.len() == 11 && mobile.is_ascii() {
        format!("{}****{}", &mobile[..3], &mobile[7..])
    } else if mobile.is_empty() {
        String::new()
    } else {
        "****".to_owned()
    }
}

/// A user name for login: 3–32 of a–z, 0–9, `.`, `_`, `-`; lower-cased.
pub fn parse_username(raw: &str) -> Result<String, ValidationError> {
    let s = raw.trim().to_ascii_lowercase();
    let ok = (3..=32).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(s)
    } else {
        Err(ValidationError::new(
            "username",
            "invalid_username",
            "用户名须为 3 到 32 位小写字母、数字、.、_ 或 -",
            "A user name is 3 to 32 lower-case letters, digits, '.', '_' or '-'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_is_parsed_and_masked() {
        assert_eq!(parse_mobile("m", "+86 138-1234-5678").as_deref(), Ok("13812345678"));
        assert!(parse_mobile("m", "2381234567").is_err());
        assert_eq!(mask_mobile("13812345678"), "138****5678");
        assert_eq!(mask_mobile("x"), "****");
    }

    #[test]
    fn labels_parse_both_languages() {
        assert_eq!(DepartmentCategory::parse("窗口服务"), Some(DepartmentCategory::WindowService));
        assert_eq!(PostType::parse("window_staff"), Some(PostType::WindowStaff));
        assert_eq!(Gender::parse("女"), Some(Gender::Female));
        assert_eq!(SupervisorKind::parse("bogus"), None);
    }

    #[test]
    fn codes_and_names() {
        assert_eq!(parse_code("code", " sj-01 ").as_deref(), Ok("SJ-01"));
        assert!(parse_code("code", "市局").is_err());
        assert!(parse_name("name", "   ", 10).is_err());
        assert!(parse_name("name", "市场监督管理局", 10).is_ok());
        assert!(parse_name("name", "一二三四五六七八九十一", 10).is_err());
        assert!(parse_username("Li.Wei").is_ok());
        assert!(parse_username("李伟").is_err());
    }
}
