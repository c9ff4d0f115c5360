//! Who may do what, where: roles, permissions, scopes.
//!
//! A user holds roles; each role is bound to one node — the county, a street, a community, a
//! grid, or a department — and the user sees and changes only what lies inside that node's
//! subtree. Place codes are hierarchical (a grid's code begins with its community's, which
//! begins with its street's, which begins with the county's), so "inside" is "begins with".
//! Which permissions a role carries is data (the role → permission table), shipped with the
//! defaults below and editable by the security administrator.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::place::UnknownValue;

macro_rules! keyed {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($variant:ident => ($key:literal, $label:literal)),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn key(self) -> &'static str { match self { $($name::$variant => $key),+ } }
            pub fn label(self) -> &'static str { match self { $($name::$variant => $label),+ } }
            /// The key, the label, or the label without its note in brackets (网格员 for
            /// 网格员（含网格长）).
            pub fn parse(s: &str) -> Result<Self, UnknownValue> {
                let s = s.trim();
                let short = |label: &'static str| label.split('（').next().unwrap_or(label);
                $(if s == $key || s == $label || s == short($label) { return Ok($name::$variant); })+
                Err(UnknownValue {
                    what: $what,
                    value: s.to_string(),
                    choices: [$(format!("{}（{}）", short($label), $key)),+].join("、"),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.label()) }
        }
    };
}

keyed!(
    /// Roles. The last three are kept apart as 等保 level 3 asks (三员分立).
    Role, "角色", {
        CountyAdmin => ("county_admin", "县级管理员"),
        StreetAdmin => ("street_admin", "街道管理员"),
        CommunityStaff => ("community_staff", "社区工作人员"),
        GridWorker => ("grid_worker", "网格员（含网格长）"),
        DepartmentStaff => ("department_staff", "部门工作人员"),
        Observer => ("observer", "只读查看（如领导小组）"),
        SystemAdmin => ("system_admin", "系统管理员"),
        SecurityAdmin => ("security_admin", "安全管理员"),
        AuditAdmin => ("audit_admin", "审计管理员"),
    }
);

keyed!(
    Permission, "权限", {
        RegistryRead => ("registry.read", "查看地、组织登记"),
        RegistryWrite => ("registry.write", "新建、修改、撤销登记"),
        RegistryImport => ("registry.import", "导入官方表格"),
        RegistryExport => ("registry.export", "导出官方表格"),
        PlanAdopt => ("plan.adopt", "采用网格划分方案"),
        PolicyEdit => ("policy.edit", "修改政策参数"),
        BudgetRead => ("budget.read", "查看预算"),
        UserManage => ("user.manage", "管理账号"),
        RoleManage => ("role.manage", "分配角色、修改权限"),
        AuditRead => ("audit.read", "查看审计日志"),
        PersonRead => ("person.read", "查看人员信息（脱敏）"),
        PersonReveal => ("person.reveal", "查看完整证件号、电话"),
        PersonWrite => ("person.write", "登记居民、迁入迁出"),
        VisitWrite => ("visit.write", "记录入户走访（民情日志）"),
        SpecialCare => ("special.care", "查看、登记、跟进关爱帮扶对象"),
        SpecialSecurity => ("special.security", "查看、登记、跟进重点人员"),
    }
);

keyed!(
    ScopeKind, "范围", {
        County => ("county", "县"),
        Street => ("street", "街道"),
        Community => ("community", "社区"),
        Grid => ("grid", "网格"),
        Department => ("department", "部门"),
    }
);

impl Role {
    /// Roles that must log in with a second factor (TOTP).
    pub fn needs_two_factors(self) -> bool {
        matches!(
            self,
            Role::CountyAdmin | Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin
        )
    }

    /// The scope kinds a role may be bound to.
    pub fn scope_kinds(self) -> &'static [ScopeKind] {
        match self {
            Role::CountyAdmin | Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin => {
                &[ScopeKind::County]
            }
            Role::StreetAdmin => &[ScopeKind::Street],
            Role::CommunityStaff => &[ScopeKind::Community],
            Role::GridWorker => &[ScopeKind::Grid],
            Role::DepartmentStaff => &[ScopeKind::Department],
            Role::Observer => &[ScopeKind::County, ScopeKind::Street, ScopeKind::Community],
        }
    }
}

/// The shipped role → permission table.
pub fn default_permissions() -> Vec<(Role, Permission)> {
    use Permission::*;
    use Role::*;
    let table: &[(Role, &[Permission])] = &[
        (
            CountyAdmin,
            &[
                RegistryRead,
                RegistryWrite,
                RegistryImport,
                RegistryExport,
                PlanAdopt,
                PolicyEdit,
                BudgetRead,
                PersonRead,
                PersonWrite,
            ],
        ),
        (
            StreetAdmin,
            &[
                RegistryRead,
                RegistryWrite,
                RegistryExport,
                PlanAdopt,
                BudgetRead,
                PersonRead,
                PersonWrite,
                SpecialCare,
            ],
        ),
        (
            CommunityStaff,
            &[
                RegistryRead,
                RegistryWrite,
                RegistryExport,
                PersonRead,
                PersonReveal,
                PersonWrite,
                VisitWrite,
                SpecialCare,
                SpecialSecurity,
            ],
        ),
        (
            GridWorker,
            &[
                RegistryRead,
                PersonRead,
                PersonReveal,
                PersonWrite,
                VisitWrite,
                SpecialCare,
                SpecialSecurity,
            ],
        ),
        (DepartmentStaff, &[]),
        (Observer, &[RegistryRead, RegistryExport, BudgetRead]),
        (SystemAdmin, &[UserManage]),
        (SecurityAdmin, &[RoleManage]),
        (AuditAdmin, &[AuditRead]),
    ];
    table
        .iter()
        .flat_map(|(r, ps)| ps.iter().map(move |p| (*r, *p)))
        .collect()
}

/// A node of the org tree a role is bound to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Scope {
    pub kind: ScopeKind,
    /// A place code, or a department's id.
    pub key: String,
}

impl Scope {
    /// Whether a place with this code lies inside the scope. Departments contain no places.
    pub fn contains(&self, code: &str) -> bool {
        self.kind != ScopeKind::Department && !self.key.is_empty() && code.starts_with(&self.key)
    }

    /// Checks that the key fits the kind: a place code of the right length, or an id.
    pub fn parse(kind: ScopeKind, key: &str) -> Result<Scope, String> {
        let key = key.trim();
        let len = match kind {
            ScopeKind::County => Some(6),
            ScopeKind::Street => Some(9),
            ScopeKind::Community => Some(12),
            ScopeKind::Grid => Some(15),
            ScopeKind::Department => None,
        };
        match len {
            Some(n) if key.len() != n || !key.bytes().all(|b| b.is_ascii_digit()) => Err(format!(
                "{}范围应为 {n} 位数字代码，现为“{key}”",
                kind.label()
            )),
            None if key.is_empty() => Err("部门范围不能为空".into()),
            _ => Ok(Scope {
                kind,
                key: key.to_string(),
            }),
        }
    }
}

/// One role a user holds, where.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

impl Grant {
    pub fn new(role: Role, scope: Scope) -> Result<Grant, String> {
        if !role.scope_kinds().contains(&scope.kind) {
            return Err(format!(
                "{}只能绑定到{}",
                role.label(),
                role.scope_kinds()
                    .iter()
                    .map(|k| k.label())
                    .collect::<Vec<_>>()
                    .join("或")
            ));
        }
        Ok(Grant { role, scope })
    }
}

/// The three administrators of 三员分立 (等保 level 3), each a different person.
pub const ADMIN_ROLES: [Role; 3] = [Role::SystemAdmin, Role::SecurityAdmin, Role::AuditAdmin];

/// The administrators' own permissions (accounts, roles, the audit log): no other role holds
/// them, and the administrators hold nothing else.
pub const ADMIN_PERMISSIONS: [Permission; 3] = [
    Permission::UserManage,
    Permission::RoleManage,
    Permission::AuditRead,
];

/// Checks a set of grants for 三员分立: the system, security and audit administrators are
/// three people, and the audit administrator holds no other role. (The first administrator,
/// made when the county is set up, starts with the system and security roles together until
/// the security administrator gives them to two people.)
pub fn check_separation(grants: &[Grant]) -> Result<(), String> {
    check_auditor_alone(grants)?;
    let admins: BTreeSet<Role> = grants
        .iter()
        .map(|g| g.role)
        .filter(|r| ADMIN_ROLES.contains(r))
        .collect();
    if admins.len() > 1 {
        return Err("系统管理员、安全管理员、审计管理员应由不同的人担任（三员分立）".into());
    }
    Ok(())
}

/// The part of [`check_separation`] that holds even for the first administrator: the audit
/// administrator holds no other role.
pub fn check_auditor_alone(grants: &[Grant]) -> Result<(), String> {
    let audit = grants.iter().any(|g| g.role == Role::AuditAdmin);
    if audit && grants.iter().any(|g| g.role != Role::AuditAdmin) {
        return Err("审计管理员不能兼任其他角色（三员分立）".into());
    }
    Ok(())
}

/// Checks a role → permission table before it replaces the one in force: the three
/// administrators' rows stay as shipped (nobody may widen their own or another
/// administrator's powers, or lock the auditor out), and no other role gets their permissions.
pub fn check_permission_table(table: &[(Role, Permission)]) -> Result<(), String> {
    let shipped = default_permissions();
    for role in ADMIN_ROLES {
        let of = |t: &[(Role, Permission)]| -> BTreeSet<Permission> {
            t.iter()
                .filter(|(r, _)| *r == role)
                .map(|(_, p)| *p)
                .collect()
        };
        let want = of(&shipped);
        if of(table) != want {
            let names: Vec<&str> = want.iter().map(|p| p.label()).collect();
            return Err(format!(
                "{}的权限固定为“{}”，不能修改（三员分立）",
                role.label(),
                names.join("、")
            ));
        }
    }
    if let Some((r, p)) = table
        .iter()
        .find(|(r, p)| !ADMIN_ROLES.contains(r) && ADMIN_PERMISSIONS.contains(p))
    {
        return Err(format!(
            "“{}”只属于系统、安全、审计管理员，不能给{}（三员分立）",
            p.label(),
            r.label()
        ));
    }
    Ok(())
}

/// What a user may do: their grants with each grant's permissions resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    grants: Vec<(Grant, BTreeSet<Permission>)>,
}

impl Access {
    /// Resolves grants against the role → permission table.
    pub fn new(grants: Vec<Grant>, table: &[(Role, Permission)]) -> Access {
        Access {
            grants: grants
                .into_iter()
                .map(|g| {
                    let ps = table
                        .iter()
                        .filter(|(r, _)| *r == g.role)
                        .map(|(_, p)| *p)
                        .collect();
                    (g, ps)
                })
                .collect(),
        }
    }

    pub fn grants(&self) -> impl Iterator<Item = &Grant> {
        self.grants.iter().map(|(g, _)| g)
    }

    /// May the user do `p` to the place with this code?
    pub fn can(&self, p: Permission, code: &str) -> bool {
        self.grants
            .iter()
            .any(|(g, ps)| ps.contains(&p) && g.scope.contains(code))
    }

    /// May the user do `p` as staff of this department (a grant on the department whose
    /// role holds the permission)?
    pub fn can_in_department(&self, p: Permission, department: &str) -> bool {
        self.grants.iter().any(|(g, ps)| {
            ps.contains(&p) && g.scope.kind == ScopeKind::Department && g.scope.key == department
        })
    }

    /// May the user do `p` anywhere at all (for menus and routes not tied to a place)?
    pub fn can_somewhere(&self, p: Permission) -> bool {
        self.grants.iter().any(|(_, ps)| ps.contains(&p))
    }

    /// The place-code prefixes under which the user may do `p`: lists, counts, searches and
    /// exports are filtered by them.
    pub fn prefixes(&self, p: Permission) -> Vec<String> {
        let mut v: Vec<String> = self
            .grants
            .iter()
            .filter(|(g, ps)| ps.contains(&p) && g.scope.kind != ScopeKind::Department)
            .map(|(g, _)| g.scope.key.clone())
            .collect();
        v.sort();
        // Drop prefixes inside other prefixes.
        let mut out: Vec<String> = Vec::new();
        for k in v {
            if !out.iter().any(|o| k.starts_with(o.as_str())) {
                out.push(k);
            }
        }
        out
    }

    pub fn needs_two_factors(&self) -> bool {
        self.grants().any(|g| g.role.needs_two_factors())
    }

    pub fn has_role(&self, r: Role) -> bool {
        self.grants().any(|g| g.role == r)
    }

    /// The same grants with one permission taken from all of them (a permission on hold).
    pub fn without(mut self, p: Permission) -> Access {
        for (_, ps) in &mut self.grants {
            ps.remove(&p);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn roles_are_named_by_key_label_or_short_label() {
        use super::Role;
        assert_eq!(Role::parse("grid_worker"), Ok(Role::GridWorker));
        assert_eq!(Role::parse("网格员（含网格长）"), Ok(Role::GridWorker));
        assert_eq!(Role::parse(" 网格员 "), Ok(Role::GridWorker));
        assert_eq!(Role::parse("只读查看"), Ok(Role::Observer));
        let e = Role::parse("网格长").unwrap_err();
        assert!(e.choices.contains("网格员（grid_worker）"), "{}", e.choices);
    }

    use super::*;

    fn grant(role: Role, kind: ScopeKind, key: &str) -> Grant {
        Grant::new(role, Scope::parse(kind, key).unwrap()).unwrap()
    }

    #[test]
    fn scopes_are_subtrees() {
        let a = Access::new(
            vec![grant(Role::GridWorker, ScopeKind::Grid, "370725001001003")],
            &default_permissions(),
        );
        assert!(a.can(Permission::RegistryRead, "370725001001003"));
        assert!(!a.can(Permission::RegistryRead, "370725001001004"));
        assert!(
            !a.can(Permission::RegistryRead, "370725001001"),
            "not the community above"
        );
        assert!(!a.can(Permission::RegistryWrite, "370725001001003"));
        assert_eq!(
            a.prefixes(Permission::RegistryRead),
            vec!["370725001001003"]
        );
        assert!(!a.needs_two_factors());
        assert!(a.can(Permission::PersonReveal, "370725001001003"));
        let held = a.without(Permission::PersonReveal);
        assert!(!held.can(Permission::PersonReveal, "370725001001003"));
        assert!(held.can(Permission::PersonRead, "370725001001003"));
    }

    #[test]
    fn roles_bind_to_their_kind_of_node() {
        let e = Grant::new(
            Role::GridWorker,
            Scope::parse(ScopeKind::County, "370725").unwrap(),
        )
        .unwrap_err();
        assert_eq!(e, "网格员（含网格长）只能绑定到网格");
        assert!(Scope::parse(ScopeKind::Street, "37072500").is_err());
        let grants = vec![
            grant(Role::AuditAdmin, ScopeKind::County, "370725"),
            grant(Role::SystemAdmin, ScopeKind::County, "370725"),
        ];
        assert!(check_separation(&grants).is_err());
    }

    #[test]
    fn nested_prefixes_collapse() {
        let a = Access::new(
            vec![
                grant(Role::StreetAdmin, ScopeKind::Street, "370725001"),
                grant(Role::CommunityStaff, ScopeKind::Community, "370725001002"),
                grant(Role::CommunityStaff, ScopeKind::Community, "370725002001"),
            ],
            &default_permissions(),
        );
        assert_eq!(
            a.prefixes(Permission::RegistryRead),
            vec!["370725001", "370725002001"]
        );
    }
}
