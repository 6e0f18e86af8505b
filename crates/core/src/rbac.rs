//! Roles, permission codes and data scope. Deny by default: a permission exists for a user only
//! if one of their roles grants it, and each grant carries its own data scope, so that holding a
//! narrow-scoped permission in one role never widens what another role can see.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

// The codes are `tt`, not `literal`: utoipa's derive then sees the plain string in `rename`
// (a `literal` fragment hides it, and the OpenAPI document listed `OfficeAdmin` for `office_admin`).
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
        pub enum $name { $(#[serde(rename = $code)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_enum! {
    /// The roles of DOMAIN.md, "Who uses it". Codes are part of the API and the CLI.
    Role {
        OfficeAdmin = "office_admin",
        Inspector = "inspector",
        DeptHead = "dept_head",
        DeptLiaison = "dept_liaison",
        Staff = "staff",
        CityLeader = "city_leader",
        SysAdmin = "sys_admin",
        SecAdmin = "sec_admin",
        AuditAdmin = "audit_admin",
    }
}

code_enum! {
    /// Permission codes. The web UI hides what a user lacks; the server refuses it regardless.
    Permission {
        OrgRead = "org:read",
        OrgWrite = "org:write",
        PeopleRead = "people:read",
        PeopleWrite = "people:write",
        PeopleImport = "people:import",
        PeopleExport = "people:export",
        SupervisorRead = "supervisor:read",
        SupervisorWrite = "supervisor:write",
        UserRead = "user:read",
        UserWrite = "user:write",
        RoleGrant = "role:grant",
        PolicyRead = "policy:read",
        PolicyWrite = "policy:write",
        AuditRead = "audit:read",
        InspectionManage = "inspection:manage",
        InspectionRecord = "inspection:record",
        FindingRead = "finding:read",
        FindingAppeal = "finding:appeal",
        BulletinRead = "bulletin:read",
        RectificationManage = "rectification:manage",
        RectificationRead = "rectification:read",
        ReportDraft = "report:draft",
        ReportSubmit = "report:submit",
        InstructionWrite = "instruction:write",
        CampaignManage = "campaign:manage",
        CampaignAnswer = "campaign:answer",
        EventRead = "event:read",
        SecondFactorReset = "second_factor:reset",
        ServiceRead = "service:read",
        ServiceManage = "service:manage",
        RatingReveal = "rating:reveal",
        TicketHandle = "ticket:handle",
        InquiryHandle = "inquiry:handle",
        InquiryReview = "inquiry:review",
    }
}

/// How much of the department tree a grant reaches. Ordered from narrowest to widest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataScope {
    /// Only records about the user themself.
    #[serde(rename = "self")]
    SelfOnly,
    /// The user's own department, not its children.
    Department,
    /// The user's department and everything below it in the tree.
    DepartmentTree,
    /// The whole city.
    All,
}

impl Role {
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::OfficeAdmin => "效能办管理员",
            Role::Inspector => "暗访人员",
            Role::DeptHead => "部门负责人",
            Role::DeptLiaison => "部门联络员",
            Role::Staff => "机关干部",
            Role::CityLeader => "市领导",
            Role::SysAdmin => "系统管理员",
            Role::SecAdmin => "安全管理员",
            Role::AuditAdmin => "安全审计员",
        }
    }

    /// What the role grants, and how far. The three IT admins (三员) share nothing: accounts and
    /// configuration, roles and policy, the audit log.
    pub fn grants(self) -> &'static [(Permission, DataScope)] {
        use DataScope::*;
        use Permission::*;
        match self {
            Role::OfficeAdmin => &[
                (OrgRead, All),
                (OrgWrite, All),
                (PeopleRead, All),
                (PeopleWrite, All),
                (PeopleImport, All),
                (PeopleExport, All),
                (SupervisorRead, All),
                (SupervisorWrite, All),
                (InspectionManage, All),
                (InspectionRecord, All),
                (FindingRead, All),
                (BulletinRead, All),
                (RectificationManage, All),
                (RectificationRead, All),
                (CampaignManage, All),
                (EventRead, All),
                (ServiceRead, All),
                (ServiceManage, All),
                (RatingReveal, All),
                (TicketHandle, All),
                (InquiryHandle, All),
                (InquiryReview, All),
            ],
            // An inspector sees the plans whose team they are on, nothing else of the regime.
            Role::Inspector => &[(OrgRead, All), (InspectionRecord, All)],
            // The head appeals for the department; the liaison prepares, the head submits.
            Role::DeptHead => &[
                (OrgRead, DepartmentTree),
                (PeopleRead, DepartmentTree),
                (PeopleExport, DepartmentTree),
                (FindingRead, DepartmentTree),
                (FindingAppeal, DepartmentTree),
                (BulletinRead, All),
                (RectificationRead, DepartmentTree),
                (ReportDraft, DepartmentTree),
                (ReportSubmit, DepartmentTree),
                (CampaignAnswer, DepartmentTree),
                (EventRead, DepartmentTree),
                (ServiceRead, DepartmentTree),
                (RatingReveal, DepartmentTree),
                (TicketHandle, DepartmentTree),
                (InquiryHandle, DepartmentTree),
            ],
            Role::DeptLiaison => &[
                (OrgRead, DepartmentTree),
                (PeopleRead, DepartmentTree),
                (PeopleExport, DepartmentTree),
                (FindingRead, DepartmentTree),
                (BulletinRead, All),
                (RectificationRead, DepartmentTree),
                (ReportDraft, DepartmentTree),
                (CampaignAnswer, DepartmentTree),
                (EventRead, DepartmentTree),
                (ServiceRead, DepartmentTree),
                (RatingReveal, DepartmentTree),
                (TicketHandle, DepartmentTree),
                (InquiryHandle, DepartmentTree),
            ],
            Role::Staff => &[
                (OrgRead, Department),
                (PeopleRead, SelfOnly),
                (FindingRead, SelfOnly),
                (FindingAppeal, SelfOnly),
                (BulletinRead, All),
                (CampaignAnswer, SelfOnly),
                (ServiceRead, SelfOnly),
                (InquiryHandle, SelfOnly),
            ],
            // The city leader reads across the city and writes instructions (批示).
            Role::CityLeader => &[
                (OrgRead, All),
                (PeopleRead, All),
                (PeopleExport, All),
                (SupervisorRead, All),
                (FindingRead, All),
                (BulletinRead, All),
                (RectificationRead, All),
                (InstructionWrite, All),
                (EventRead, All),
                (ServiceRead, All),
            ],
            Role::SysAdmin => &[(UserRead, All), (UserWrite, All), (OrgRead, All)],
            Role::SecAdmin => {
                &[(UserRead, All), (RoleGrant, All), (PolicyRead, All), (PolicyWrite, All), (SecondFactorReset, All)]
            }
            Role::AuditAdmin => &[(AuditRead, All)],
        }
    }

    /// Roles that need a department to scope them.
    pub fn needs_department(self) -> bool {
        matches!(self, Role::DeptHead | Role::DeptLiaison | Role::Staff)
    }

    /// The three IT administrators (三员): system, security and audit.
    pub fn is_it_admin(self) -> bool {
        matches!(self, Role::SysAdmin | Role::SecAdmin | Role::AuditAdmin)
    }

    /// Whether one account may hold these roles together. An IT admin role is held alone:
    /// otherwise one person could grant, use and then review the same power.
    pub fn check_combination(roles: &[Role]) -> Result<(), crate::ValidationError> {
        if roles.len() > 1 && roles.iter().any(|r| r.is_it_admin()) {
            return Err(crate::ValidationError::new(
                "roles",
                "it_admin_role_alone",
                "系统管理员、安全管理员、安全审计员角色须单独授予，不能与其他角色兼任",
                "The system, security and audit admin roles are held alone, never with another role",
            ));
        }
        Ok(())
    }
}

/// The effective grants of a user: for each permission, the widest scope any role gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants(BTreeMap<Permission, DataScope>);

impl Grants {
    pub fn of(roles: &[Role]) -> Self {
        let mut map = BTreeMap::new();
        for role in roles {
            for &(perm, scope) in role.grants() {
                map.entry(perm).and_modify(|s: &mut DataScope| *s = (*s).max(scope)).or_insert(scope);
            }
        }
        Self(map)
    }

    pub fn scope(&self, perm: Permission) -> Option<DataScope> {
        self.0.get(&perm).copied()
    }

    pub fn has(&self, perm: Permission) -> bool {
        self.0.contains_key(&perm)
    }

    pub fn permissions(&self) -> impl Iterator<Item = (Permission, DataScope)> + '_ {
        self.0.iter().map(|(p, s)| (*p, *s))
    }

    /// The widest scope over all grants, for display.
    pub fn widest(&self) -> Option<DataScope> {
        self.0.values().copied().max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_admins_share_no_permission() {
        let it = [Role::SysAdmin, Role::SecAdmin, Role::AuditAdmin];
        for a in it {
            for b in it {
                if a == b {
                    continue;
                }
                let shared: Vec<_> = a
                    .grants()
                    .iter()
                    .filter(|(p, _)| b.grants().iter().any(|(q, _)| p == q))
                    .filter(|(p, _)| *p != Permission::UserRead)
                    .collect();
                assert!(shared.is_empty(), "{a} and {b} share {shared:?}");
            }
        }
        assert!(!Grants::of(&[Role::SysAdmin]).has(Permission::RoleGrant));
        assert!(!Grants::of(&[Role::SysAdmin]).has(Permission::AuditRead));
        assert!(!Grants::of(&[Role::SecAdmin]).has(Permission::PeopleWrite));
        assert!(!Grants::of(&[Role::SecAdmin]).has(Permission::OrgWrite));
        let audit = Grants::of(&[Role::AuditAdmin]);
        assert_eq!(audit.permissions().count(), 1);
    }

    #[test]
    fn scope_is_per_permission_not_widest_overall() {
        // An inspector reads the whole org tree; as staff they read only themself.
        let g = Grants::of(&[Role::Staff, Role::Inspector]);
        assert_eq!(g.scope(Permission::OrgRead), Some(DataScope::All));
        assert_eq!(g.scope(Permission::PeopleRead), Some(DataScope::SelfOnly));
        assert_eq!(g.scope(Permission::PeopleWrite), None);
    }

    #[test]
    fn it_admin_roles_are_held_alone() {
        assert!(Role::check_combination(&[Role::SecAdmin]).is_ok());
        assert!(Role::check_combination(&[Role::OfficeAdmin, Role::Inspector]).is_ok());
        assert!(Role::check_combination(&[Role::SecAdmin, Role::AuditAdmin]).is_err());
        assert!(Role::check_combination(&[Role::SysAdmin, Role::Staff]).is_err());
    }

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(*r));
        }
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.code()), Some(*p));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
