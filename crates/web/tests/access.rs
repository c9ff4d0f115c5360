//! Access control, end to end: the authorization matrix over every route, scoped lists and
//! exports, lockout, session limits, logout everywhere, two-factor login, the audit chain,
//! CSRF and security headers — on SQLite, or on PostgreSQL with WANGGE_TEST_DATABASE_URL.

mod common;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use common::{PASSWORD, TOTP, TestApp, totp_now};
use serde_json::{Value, json};
use wangge_domain::access::{Permission, Role, default_permissions};

const PW: &str = "Matrix-Pass-42";
const USER_TOTP: &str = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU";

/// A role bound to one node, as one test user holds it.
struct Who {
    name: &'static str,
    role: Role,
    scope: String,
}

/// What a request needs, per the issue: the specification the implementation is held to.
#[derive(Clone)]
enum Need {
    /// Any logged-in user (lists and searches are filtered, see the other tests).
    Anyone,
    /// The permission, on a place with this code (inside the role's scope).
    On(Permission, String),
    /// The permission, on any node.
    Somewhere(Permission),
    /// Either permission, on any node.
    EitherSomewhere(Permission, Permission),
    /// Reading the registry anywhere, or being staff of this department.
    Department(String),
    /// The permission anywhere, or as staff of this department whose role holds it.
    DepartmentWith(Permission, String),
}

struct Case {
    method: &'static str,
    template: &'static str,
    path: String,
    /// Form fields (pages) or a JSON body (API).
    body: Option<Value>,
    need: Need,
}

fn has(role: Role, p: Permission) -> bool {
    default_permissions().contains(&(role, p))
}

fn allowed(w: &Who, need: &Need) -> bool {
    match need {
        Need::Anyone => true,
        Need::On(p, code) => {
            has(w.role, *p) && w.role != Role::DepartmentStaff && code.starts_with(&w.scope)
        }
        Need::Somewhere(p) => has(w.role, *p),
        Need::EitherSomewhere(a, b) => has(w.role, *a) || has(w.role, *b),
        Need::Department(id) => {
            has(w.role, Permission::RegistryRead)
                || (w.role == Role::DepartmentStaff && &w.scope == id)
        }
        Need::DepartmentWith(p, id) => {
            has(w.role, *p) && (w.role != Role::DepartmentStaff || &w.scope == id)
        }
    }
}

/// The places the matrix works on: one chain inside the narrow scopes, one outside.
struct Objects {
    street: [String; 2],
    community: [String; 2],
    grid: [String; 2],
    compound: [String; 2],
    building: [String; 2],
    department: [String; 2],
    /// A staff assignment in each chain, and the code of its post.
    staff: [(String, String); 2],
    /// A resident in each chain's grid, and his household.
    resident: [String; 2],
    household: [String; 2],
    /// A care-group record (独居老人 / 低保对象) in each chain's grid.
    care_record: [String; 2],
    target_user: String,
}

async fn objects(app: &TestApp) -> Objects {
    let mut compound = Vec::new();
    let mut building = Vec::new();
    for (community, grid) in [
        ("370725001001", "370725001001001"),
        ("370725002001", "370725002001001"),
    ] {
        let page = app
            .get(&format!("/api/communities/{community}"))
            .await
            .json();
        let m = page["compounds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["grid_code"] == grid)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let b = app.get(&format!("/api/compounds/{m}")).await.json()["buildings"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        compound.push(m);
        building.push(b);
    }
    let mut department = Vec::new();
    for name in ["县公安局", "县民政局"] {
        let list = app.get("/api/departments").await.json();
        let d = list
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        department.push(d);
    }
    let mut staff = Vec::new();
    for (community, grid) in [
        ("370725001001", "370725001001001"),
        ("370725002001", "370725002001001"),
    ] {
        let list = app
            .get(&format!("/api/communities/{community}/staff"))
            .await
            .json();
        let list = list.as_array().unwrap();
        let pick = list
            .iter()
            .find(|r| r["post_code"] == grid)
            .or_else(|| list.first())
            .unwrap();
        staff.push((
            pick["id"].as_str().unwrap().to_string(),
            pick["post_code"].as_str().unwrap().to_string(),
        ));
    }
    wangge_web::people::load_demo_residents(&app.store, 3)
        .await
        .unwrap();
    let mut resident = Vec::new();
    let mut household = Vec::new();
    let mut care_record = Vec::new();
    let everything: Vec<(Role, Permission)> = Permission::ALL
        .iter()
        .map(|p| (Role::CountyAdmin, *p))
        .collect();
    let all = wangge_domain::access::Access::new(
        vec![
            wangge_domain::access::Grant::new(
                Role::CountyAdmin,
                wangge_domain::access::Scope::parse(
                    wangge_domain::access::ScopeKind::County,
                    "370725",
                )
                .unwrap(),
            )
            .unwrap(),
        ],
        &everything,
    );
    for grid in ["370725001001001", "370725002001001"] {
        let list = app
            .get(&format!("/api/grids/{grid}/residents"))
            .await
            .json();
        resident.push(list["residents"][0]["id"].as_str().unwrap().to_string());
        household.push(
            list["residents"][0]["household_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        let records = app.store.grid_special_records(&all, grid).await.unwrap();
        let care = records
            .iter()
            .find(|r| r.sensitivity == "关爱帮扶对象")
            .expect("the demo keeps a care record in every grid");
        care_record.push(care.id.clone());
    }
    let hash = wangge_web::hash_password("Target-Pass-42").unwrap();
    let target_user = app
        .store
        .create_user("target", None, &hash, false)
        .await
        .unwrap();
    Objects {
        street: ["370725001".into(), "370725002".into()],
        community: ["370725001001".into(), "370725002001".into()],
        grid: ["370725001001001".into(), "370725002001001".into()],
        compound: [compound[0].clone(), compound[1].clone()],
        building: [building[0].clone(), building[1].clone()],
        department: [department[0].clone(), department[1].clone()],
        staff: [staff[0].clone(), staff[1].clone()],
        resident: [resident[0].clone(), resident[1].clone()],
        household: [household[0].clone(), household[1].clone()],
        care_record: [care_record[0].clone(), care_record[1].clone()],
        target_user,
    }
}

/// The county's default permission table as the API takes it (PUT leaves it unchanged).
fn permission_body() -> Value {
    Value::Array(
        default_permissions()
            .iter()
            .map(|(r, p)| json!({"role": r.key(), "permission": p.key()}))
            .collect(),
    )
}

/// A residents table whose one row has a wrong check digit: refused (422) when allowed.
fn residents_with_a_bad_id() -> String {
    "户号,姓名,公民身份号码,网格编码\nM-1,某,370725198001011230,370725001001001\n".into()
}

fn annex2_for_baodu() -> String {
    "社区基本情况表（宝都街道）\n序号,社区名称,网格数量,小区及村庄数,户数,人口\n1,宝昌社区,9,10,4350,15225\n合计,1,9,10,4350,15225\n".into()
}

/// Every route behind login, with concrete requests for an object inside and outside the
/// narrow scopes. A route the router has and this table lacks fails the test.
fn cases(o: &Objects, n: usize) -> Vec<Case> {
    use Need::*;
    use Permission::*;
    let county = "370725".to_string();
    let mut v: Vec<Case> = Vec::new();
    let mut add = |method: &'static str,
                   template: &'static str,
                   path: String,
                   body: Option<Value>,
                   need: Need| {
        v.push(Case {
            method,
            template,
            path,
            body,
            need,
        });
    };
    let uniq = |s: &str| format!("{s}{n}");
    add("GET", "/", "/".into(), None, Anyone);
    add(
        "POST",
        "/county",
        "/county".into(),
        Some(json!({"code": "370725", "name": "昌乐县"})),
        On(RegistryWrite, county.clone()),
    );
    add("GET", "/departments", "/departments".into(), None, Anyone);
    add(
        "GET",
        "/search",
        "/search?q=%E7%A4%BE%E5%8C%BA".into(),
        None,
        Anyone,
    );
    add(
        "GET",
        "/import",
        "/import".into(),
        None,
        Somewhere(RegistryImport),
    );
    add(
        "GET",
        "/export/communities.xlsx",
        "/export/communities.xlsx".into(),
        None,
        Somewhere(RegistryExport),
    );
    add(
        "GET",
        "/export/communities.csv",
        "/export/communities.csv".into(),
        None,
        Somewhere(RegistryExport),
    );
    add(
        "GET",
        "/api/openapi.json",
        "/api/openapi.json".into(),
        None,
        Anyone,
    );
    add("GET", "/api/overview", "/api/overview".into(), None, Anyone);
    add(
        "PUT",
        "/api/county",
        "/api/county".into(),
        Some(json!({"code": "370725", "name": "昌乐县"})),
        On(RegistryWrite, county.clone()),
    );
    add(
        "GET",
        "/api/search",
        "/api/search?q=%E7%A4%BE%E5%8C%BA".into(),
        None,
        Anyone,
    );
    add(
        "GET",
        "/api/departments",
        "/api/departments".into(),
        None,
        Anyone,
    );
    add(
        "POST",
        "/api/departments",
        "/api/departments".into(),
        Some(json!({"name": uniq("县交通局")})),
        On(RegistryWrite, county.clone()),
    );
    add(
        "GET",
        "/api/export/communities",
        "/api/export/communities?format=csv".into(),
        None,
        Somewhere(RegistryExport),
    );
    add("GET", "/api/session", "/api/session".into(), None, Anyone);
    add("GET", "/account", "/account".into(), None, Anyone);
    add(
        "GET",
        "/account/password",
        "/account/password".into(),
        None,
        Anyone,
    );
    add(
        "POST",
        "/account/password",
        "/account/password".into(),
        Some(json!({"current": "wrong", "new": "x"})),
        Anyone,
    );
    add(
        "POST",
        "/account/totp/confirm",
        "/account/totp/confirm".into(),
        Some(json!({"code": "000000"})),
        Anyone,
    );
    add(
        "POST",
        "/account/totp",
        "/account/totp".into(),
        Some(json!({})),
        Anyone,
    );
    add(
        "GET",
        "/users",
        "/users".into(),
        None,
        EitherSomewhere(UserManage, RoleManage),
    );
    add(
        "POST",
        "/users",
        "/users".into(),
        Some(json!({"username": uniq("newpage")})),
        Somewhere(UserManage),
    );
    let t = &o.target_user;
    add(
        "GET",
        "/users/{id}",
        format!("/users/{t}"),
        None,
        EitherSomewhere(UserManage, RoleManage),
    );
    add(
        "POST",
        "/users/{id}/roles",
        format!("/users/{t}/roles"),
        Some(json!({"grants": "observer@370725"})),
        Somewhere(RoleManage),
    );
    add(
        "POST",
        "/users/{id}/disable",
        format!("/users/{t}/disable"),
        Some(json!({})),
        Somewhere(UserManage),
    );
    add(
        "POST",
        "/users/{id}/enable",
        format!("/users/{t}/enable"),
        Some(json!({})),
        Somewhere(UserManage),
    );
    add(
        "POST",
        "/users/{id}/password",
        format!("/users/{t}/password"),
        Some(json!({})),
        Somewhere(UserManage),
    );
    add(
        "POST",
        "/users/{id}/release-reveal",
        format!("/users/{t}/release-reveal"),
        Some(json!({})),
        Somewhere(RoleManage),
    );
    add(
        "POST",
        "/users/{id}/totp-reset",
        format!("/users/{t}/totp-reset"),
        Some(json!({})),
        Somewhere(RoleManage),
    );
    add(
        "GET",
        "/permissions",
        "/permissions".into(),
        None,
        Somewhere(RoleManage),
    );
    add("GET", "/audit", "/audit".into(), None, Somewhere(AuditRead));
    add(
        "GET",
        "/audit/export.csv",
        "/audit/export.csv".into(),
        None,
        Somewhere(AuditRead),
    );
    add(
        "GET",
        "/api/users",
        "/api/users".into(),
        None,
        EitherSomewhere(UserManage, RoleManage),
    );
    add(
        "POST",
        "/api/users",
        "/api/users".into(),
        Some(json!({"username": uniq("newapi")})),
        Somewhere(UserManage),
    );
    add(
        "GET",
        "/api/users/{id}",
        format!("/api/users/{t}"),
        None,
        EitherSomewhere(UserManage, RoleManage),
    );
    add(
        "PUT",
        "/api/users/{id}/roles",
        format!("/api/users/{t}/roles"),
        Some(json!({"grants": ["observer@370725"]})),
        Somewhere(RoleManage),
    );
    add(
        "POST",
        "/api/users/{id}/disable",
        format!("/api/users/{t}/disable"),
        Some(json!({})),
        Somewhere(UserManage),
    );
    add(
        "POST",
        "/api/users/{id}/enable",
        format!("/api/users/{t}/enable"),
        Some(json!({})),
        Somewhere(UserManage),
    );
    add(
        "POST",
        "/api/users/{id}/password",
        format!("/api/users/{t}/password"),
        Some(json!({})),
        Somewhere(UserManage),
    );
    add(
        "POST",
        "/api/users/{id}/release-reveal",
        format!("/api/users/{t}/release-reveal"),
        Some(json!({})),
        Somewhere(RoleManage),
    );
    add(
        "POST",
        "/api/users/{id}/totp-reset",
        format!("/api/users/{t}/totp-reset"),
        Some(json!({})),
        Somewhere(RoleManage),
    );
    add(
        "GET",
        "/api/permissions",
        "/api/permissions".into(),
        None,
        Somewhere(RoleManage),
    );
    add(
        "PUT",
        "/api/permissions",
        "/api/permissions".into(),
        Some(permission_body()),
        Somewhere(RoleManage),
    );
    add(
        "GET",
        "/api/audit",
        "/api/audit".into(),
        None,
        Somewhere(AuditRead),
    );
    add(
        "GET",
        "/api/audit/verify",
        "/api/audit/verify".into(),
        None,
        Somewhere(AuditRead),
    );
    add(
        "GET",
        "/budget",
        "/budget?year=2021".into(),
        None,
        Somewhere(BudgetRead),
    );
    add(
        "GET",
        "/budget/findings",
        "/budget/findings?year=2021".into(),
        None,
        Somewhere(BudgetRead),
    );
    add(
        "GET",
        "/export/budget.xlsx",
        "/export/budget.xlsx?year=2021".into(),
        None,
        Somewhere(BudgetRead),
    );
    add(
        "GET",
        "/api/budget",
        "/api/budget?year=2021".into(),
        None,
        Somewhere(BudgetRead),
    );
    add(
        "GET",
        "/api/budget/findings",
        "/api/budget/findings?year=2021".into(),
        None,
        Somewhere(BudgetRead),
    );
    // The permission table POST (page) keeps the defaults too.
    let grants: Vec<String> = default_permissions()
        .iter()
        .map(|(r, p)| format!("{}|{}", r.key(), p.key()))
        .collect();
    add(
        "POST",
        "/permissions",
        "/permissions".into(),
        Some(json!({"grant": grants})),
        Somewhere(RoleManage),
    );
    for i in 0..2 {
        let (st, c, g, m, b, d) = (
            &o.street[i],
            &o.community[i],
            &o.grid[i],
            &o.compound[i],
            &o.building[i],
            &o.department[i],
        );
        // Pages of places.
        add(
            "GET",
            "/streets/{code}",
            format!("/streets/{st}"),
            None,
            On(RegistryRead, st.clone()),
        );
        add(
            "GET",
            "/communities/{code}",
            format!("/communities/{c}"),
            None,
            On(RegistryRead, c.clone()),
        );
        add(
            "GET",
            "/grids/{code}",
            format!("/grids/{g}"),
            None,
            On(RegistryRead, g.clone()),
        );
        add(
            "GET",
            "/compounds/{id}",
            format!("/compounds/{m}"),
            None,
            On(RegistryRead, g.clone()),
        );
        // API reads.
        add(
            "GET",
            "/api/streets/{key}",
            format!("/api/streets/{st}"),
            None,
            On(RegistryRead, st.clone()),
        );
        add(
            "GET",
            "/api/communities/{key}",
            format!("/api/communities/{c}"),
            None,
            On(RegistryRead, c.clone()),
        );
        add(
            "GET",
            "/api/grids/{key}",
            format!("/api/grids/{g}"),
            None,
            On(RegistryRead, g.clone()),
        );
        add(
            "GET",
            "/api/compounds/{key}",
            format!("/api/compounds/{m}"),
            None,
            On(RegistryRead, g.clone()),
        );
        add(
            "GET",
            "/api/buildings/{key}",
            format!("/api/buildings/{b}"),
            None,
            On(RegistryRead, g.clone()),
        );
        add(
            "GET",
            "/api/departments/{key}",
            format!("/api/departments/{d}"),
            None,
            Department(d.clone()),
        );
        // A department's own grids: seen by readers of the registry (street readers see their
        // part) and by the department's staff when their role holds the permission; registered
        // and folded in for the whole county.
        add(
            "GET",
            "/departments/{id}/grids",
            format!("/departments/{d}/grids"),
            None,
            DepartmentWith(RegistryRead, d.clone()),
        );
        add(
            "GET",
            "/api/departments/{id}/grids",
            format!("/api/departments/{d}/grids"),
            None,
            DepartmentWith(RegistryRead, d.clone()),
        );
        add(
            "GET",
            "/departments/{id}/grids/export.xlsx",
            format!("/departments/{d}/grids/export.xlsx"),
            None,
            DepartmentWith(RegistryExport, d.clone()),
        );
        add(
            "GET",
            "/departments/{id}/grids/export.csv",
            format!("/departments/{d}/grids/export.csv?encoding=gbk"),
            None,
            DepartmentWith(RegistryExport, d.clone()),
        );
        add(
            "POST",
            "/departments/{id}/grids",
            format!("/departments/{d}/grids"),
            None,
            On(RegistryWrite, county.clone()),
        );
        add(
            "PUT",
            "/api/departments/{id}/grids",
            format!("/api/departments/{d}/grids"),
            None,
            On(RegistryWrite, county.clone()),
        );
        add(
            "POST",
            "/departments/{id}/grids/clear",
            format!("/departments/{d}/grids/clear"),
            Some(json!({})),
            On(RegistryWrite, county.clone()),
        );
        add(
            "DELETE",
            "/api/departments/{id}/grids",
            format!("/api/departments/{d}/grids"),
            None,
            On(RegistryWrite, county.clone()),
        );
        add(
            "POST",
            "/departments/{id}/grids/fold",
            format!("/departments/{d}/grids/fold"),
            Some(json!({})),
            On(PlanAdopt, county.clone()),
        );
        add(
            "POST",
            "/api/departments/{id}/grids/fold",
            format!("/api/departments/{d}/grids/fold"),
            None,
            On(PlanAdopt, county.clone()),
        );
        add(
            "GET",
            "/budget/communities/{code}",
            format!("/budget/communities/{c}?year=2021"),
            None,
            On(BudgetRead, c.clone()),
        );
        let (sid, spost) = &o.staff[i];
        add(
            "GET",
            "/api/communities/{key}/staff",
            format!("/api/communities/{c}/staff"),
            None,
            On(RegistryRead, c.clone()),
        );
        add(
            "POST",
            "/api/communities/{key}/staff",
            format!("/api/communities/{c}/staff"),
            Some(json!({"person_name": uniq("配备"), "role": "grid_worker", "grid": g})),
            On(RegistryWrite, g.clone()),
        );
        add(
            "GET",
            "/communities/{code}/boundaries",
            format!("/communities/{c}/boundaries"),
            None,
            On(RegistryRead, c.clone()),
        );
        add(
            "POST",
            "/communities/{code}/boundaries",
            format!("/communities/{c}/boundaries"),
            None,
            On(RegistryWrite, c.clone()),
        );
        add(
            "POST",
            "/api/communities/{code}/boundaries",
            format!("/api/communities/{c}/boundaries"),
            None,
            On(RegistryWrite, c.clone()),
        );
        add(
            "POST",
            "/communities/{code}/staff",
            format!("/communities/{c}/staff"),
            Some(json!({"person_name": uniq("表单配备"), "role": "grid_worker", "grid": g})),
            On(RegistryWrite, g.clone()),
        );
        add(
            "POST",
            "/api/staff/{id}/end",
            format!("/api/staff/{sid}/end"),
            Some(json!({})),
            On(RegistryWrite, spost.clone()),
        );
        add(
            "POST",
            "/staff/{id}/end",
            format!("/staff/{sid}/end"),
            Some(json!({})),
            On(RegistryWrite, spost.clone()),
        );
        add(
            "GET",
            "/plan/streets/{code}",
            format!("/plan/streets/{st}"),
            None,
            On(RegistryRead, st.clone()),
        );
        add(
            "GET",
            "/api/plan/streets/{code}",
            format!("/api/plan/streets/{st}?min=500&max=600"),
            None,
            On(RegistryRead, st.clone()),
        );
        add(
            "GET",
            "/api/plan/streets/{code}/geojson",
            format!("/api/plan/streets/{st}/geojson?min=500&max=600"),
            None,
            On(RegistryRead, st.clone()),
        );
        add(
            "GET",
            "/plan/compare",
            "/plan/compare?bands=500-600".into(),
            None,
            On(RegistryRead, county.clone()),
        );
        add(
            "GET",
            "/api/plan/compare",
            "/api/plan/compare?bands=500-600".into(),
            None,
            On(RegistryRead, county.clone()),
        );
        add(
            "GET",
            "/plan/streets/{code}/compare",
            format!("/plan/streets/{st}/compare?bands=500-600"),
            None,
            On(RegistryRead, st.clone()),
        );
        add(
            "GET",
            "/api/plan/streets/{code}/compare",
            format!("/api/plan/streets/{st}/compare?bands=500-600"),
            None,
            On(RegistryRead, st.clone()),
        );
        add(
            "GET",
            "/plan/streets/{code}/export.xlsx",
            format!("/plan/streets/{st}/export.xlsx?min=500&max=600"),
            None,
            On(RegistryExport, st.clone()),
        );
        add(
            "GET",
            "/streets/{code}/barriers",
            format!("/streets/{st}/barriers"),
            None,
            On(RegistryRead, st.clone()),
        );
        add(
            "POST",
            "/streets/{code}/barriers",
            format!("/streets/{st}/barriers"),
            None,
            On(RegistryWrite, st.clone()),
        );
        add(
            "POST",
            "/streets/{code}/barriers/clear",
            format!("/streets/{st}/barriers/clear"),
            Some(json!({})),
            On(RegistryWrite, st.clone()),
        );
        add(
            "GET",
            "/api/streets/{code}/barriers",
            format!("/api/streets/{st}/barriers"),
            None,
            On(RegistryRead, st.clone()),
        );
        add(
            "PUT",
            "/api/streets/{code}/barriers",
            format!("/api/streets/{st}/barriers"),
            None,
            On(RegistryWrite, st.clone()),
        );
        add(
            "DELETE",
            "/api/streets/{code}/barriers",
            format!("/api/streets/{st}/barriers"),
            None,
            On(RegistryWrite, st.clone()),
        );
        add(
            "GET",
            "/plan/communities/{code}",
            format!("/plan/communities/{c}"),
            None,
            On(RegistryRead, c.clone()),
        );
        add(
            "GET",
            "/plan/communities/{code}/export.xlsx",
            format!("/plan/communities/{c}/export.xlsx?min=500&max=600"),
            None,
            On(RegistryExport, c.clone()),
        );
        add(
            "POST",
            "/budget/communities/{code}/investment",
            format!("/budget/communities/{c}/investment"),
            Some(json!({"year": "2021", "amount_wan": "1.5"})),
            On(RegistryWrite, c.clone()),
        );
        add(
            "PUT",
            "/api/communities/{key}/investment",
            format!("/api/communities/{c}/investment"),
            Some(json!({"year": 2021, "amount_wan": "1.5"})),
            On(RegistryWrite, c.clone()),
        );
        add(
            "POST",
            "/budget/streets/{code}/recruitment",
            format!("/budget/streets/{st}/recruitment"),
            Some(json!({"year": "2021", "social_workers": "64"})),
            On(RegistryWrite, st.clone()),
        );
        add(
            "PUT",
            "/api/streets/{key}/recruitment",
            format!("/api/streets/{st}/recruitment"),
            Some(json!({"year": 2021, "social_workers": 64})),
            On(RegistryWrite, st.clone()),
        );
        add(
            "GET",
            "/api/plan/communities/{code}",
            format!("/api/plan/communities/{c}"),
            None,
            On(RegistryRead, c.clone()),
        );
        // Forms.
        for (entity, parent, target) in [
            ("communities", st.clone(), st.clone()),
            ("grids", c.clone(), c.clone()),
            ("compounds", c.clone(), c.clone()),
            ("buildings", m.clone(), g.clone()),
        ] {
            add(
                "GET",
                "/new/{entity}",
                format!("/new/{entity}?parent={parent}"),
                None,
                On(RegistryWrite, target.clone()),
            );
        }
        for (entity, key, target) in [
            ("streets", st.clone(), st.clone()),
            ("communities", c.clone(), c.clone()),
            ("grids", g.clone(), g.clone()),
            ("compounds", m.clone(), g.clone()),
            ("buildings", b.clone(), g.clone()),
            ("departments", d.clone(), county.clone()),
        ] {
            add(
                "GET",
                "/edit/{entity}/{key}",
                format!("/edit/{entity}/{key}"),
                None,
                On(RegistryWrite, target),
            );
        }
        // Writes by form.
        add(
            "POST",
            "/new/{entity}",
            format!("/new/grids?parent={c}"),
            Some(json!({"name": uniq("矩阵网格")})),
            On(RegistryWrite, c.clone()),
        );
        add(
            "POST",
            "/new/{entity}",
            format!("/new/buildings?parent={m}"),
            Some(json!({"name": uniq("矩阵楼")})),
            On(RegistryWrite, g.clone()),
        );
        add(
            "POST",
            "/edit/{entity}/{key}",
            format!("/edit/grids/{g}"),
            Some(json!({"name": uniq("改名网格"), "kind": "urban"})),
            On(RegistryWrite, g.clone()),
        );
        add(
            "POST",
            "/retire/{entity}/{key}",
            format!("/retire/communities/{c}"),
            Some(json!({})),
            On(RegistryWrite, c.clone()),
        );
        // Writes by API.
        add(
            "POST",
            "/api/streets/{key}/communities",
            format!("/api/streets/{st}/communities"),
            Some(json!({"code": format!("{st}{:03}", 900 + n), "name": uniq("矩阵社区")})),
            On(RegistryWrite, st.clone()),
        );
        add(
            "POST",
            "/api/communities/{key}/grids",
            format!("/api/communities/{c}/grids"),
            Some(json!({"name": uniq("接口网格")})),
            On(RegistryWrite, c.clone()),
        );
        add(
            "POST",
            "/api/communities/{key}/compounds",
            format!("/api/communities/{c}/compounds"),
            Some(json!({"name": uniq("接口小区"), "households": 10, "population": 30})),
            On(RegistryWrite, c.clone()),
        );
        add(
            "POST",
            "/api/compounds/{key}/buildings",
            format!("/api/compounds/{m}/buildings"),
            Some(json!({"name": uniq("接口楼")})),
            On(RegistryWrite, g.clone()),
        );
        add(
            "PUT",
            "/api/streets/{key}",
            format!("/api/streets/{st}"),
            Some(json!({"name": if i == 0 { "宝都街道" } else { "宝城街道" }})),
            On(RegistryWrite, st.clone()),
        );
        add(
            "PUT",
            "/api/communities/{key}",
            format!("/api/communities/{c}"),
            Some(json!({"name": if i == 0 { "宝昌社区" } else { "昌明社区" }})),
            On(RegistryWrite, c.clone()),
        );
        add(
            "PUT",
            "/api/grids/{key}",
            format!("/api/grids/{g}"),
            Some(json!({"name": uniq("接口改名")})),
            On(RegistryWrite, g.clone()),
        );
        add(
            "PUT",
            "/api/compounds/{key}",
            format!("/api/compounds/{m}"),
            Some(
                json!({"name": uniq("接口改名小区"), "households": 100, "population": 300, "grid": g}),
            ),
            On(RegistryWrite, g.clone()),
        );
        add(
            "PUT",
            "/api/buildings/{key}",
            format!("/api/buildings/{b}"),
            Some(json!({"name": uniq("接口改名楼")})),
            On(RegistryWrite, g.clone()),
        );
        add(
            "PUT",
            "/api/departments/{key}",
            format!("/api/departments/{d}"),
            Some(json!({"name": if i == 0 { "县公安局" } else { "县民政局" }})),
            On(RegistryWrite, county.clone()),
        );
        add(
            "POST",
            "/api/streets/{key}/retire",
            format!("/api/streets/{st}/retire"),
            Some(json!({})),
            On(RegistryWrite, st.clone()),
        );
        add(
            "POST",
            "/api/communities/{key}/retire",
            format!("/api/communities/{c}/retire"),
            Some(json!({})),
            On(RegistryWrite, c.clone()),
        );
        add(
            "POST",
            "/api/grids/{key}/retire",
            format!("/api/grids/{g}/retire"),
            Some(json!({})),
            On(RegistryWrite, g.clone()),
        );
        add(
            "POST",
            "/api/buildings/{key}/retire",
            format!("/api/buildings/{b}/retire"),
            Some(json!({})),
            On(RegistryWrite, g.clone()),
        );
        add(
            "POST",
            "/api/compounds/{key}/retire",
            format!("/api/compounds/{m}/retire"),
            Some(json!({})),
            On(RegistryWrite, g.clone()),
        );
        add(
            "POST",
            "/api/departments/{key}/retire",
            format!("/api/departments/{d}/retire"),
            Some(json!({})),
            On(RegistryWrite, county.clone()),
        );
    }
    add(
        "POST",
        "/api/streets",
        "/api/streets".into(),
        Some(json!({"code": format!("370725{:03}", 900 + n), "name": uniq("矩阵街道")})),
        On(RegistryWrite, county.clone()),
    );
    add(
        "POST",
        "/new/{entity}",
        "/new/streets".into(),
        Some(json!({"code": format!("370725{:03}", 800 + n), "name": uniq("表单街道")})),
        On(RegistryWrite, county.clone()),
    );
    add(
        "POST",
        "/import",
        "/import".into(),
        None,
        Somewhere(RegistryImport),
    );
    add(
        "POST",
        "/api/import/communities",
        "/api/import/communities".into(),
        None,
        Somewhere(RegistryImport),
    );
    add(
        "GET",
        "/new/{entity}",
        "/new/streets".into(),
        None,
        On(RegistryWrite, county.clone()),
    );
    add(
        "GET",
        "/new/{entity}",
        "/new/departments".into(),
        None,
        On(RegistryWrite, county.clone()),
    );
    add(
        "POST",
        "/new/{entity}",
        "/new/departments".into(),
        Some(json!({"name": uniq("表单部门")})),
        On(RegistryWrite, county.clone()),
    );
    add(
        "POST",
        "/edit/{entity}/{key}",
        format!("/edit/departments/{}", o.department[1]),
        Some(json!({"name": "县民政局"})),
        On(RegistryWrite, county.clone()),
    );
    add(
        "GET",
        "/people/search",
        "/people/search".into(),
        None,
        Anyone,
    );
    add(
        "POST",
        "/people/search",
        "/people/search".into(),
        Some(json!({"id_number": "37072519800101123X"})),
        Somewhere(PersonRead),
    );
    add(
        "POST",
        "/api/people/search",
        "/api/people/search".into(),
        Some(json!({"id_number": "37072519800101123X"})),
        Somewhere(PersonRead),
    );
    for i in 0..2 {
        let g = &o.grid[i];
        let r = &o.resident[i];
        add(
            "GET",
            "/api/grids/{key}/residents",
            format!("/api/grids/{g}/residents"),
            None,
            On(PersonRead, g.clone()),
        );
        add(
            "GET",
            "/residents/{id}",
            format!("/residents/{r}"),
            None,
            On(PersonRead, g.clone()),
        );
        add(
            "GET",
            "/api/residents/{id}",
            format!("/api/residents/{r}"),
            None,
            On(PersonRead, g.clone()),
        );
        add(
            "POST",
            "/residents/{id}/reveal",
            format!("/residents/{r}/reveal"),
            Some(json!({"reason": "矩阵测试"})),
            On(PersonReveal, g.clone()),
        );
        add(
            "POST",
            "/api/residents/{id}/reveal",
            format!("/api/residents/{r}/reveal"),
            Some(json!({"reason": "矩阵测试"})),
            On(PersonReveal, g.clone()),
        );
    }
    add(
        "GET",
        "/export/residents.csv",
        "/export/residents.csv".into(),
        None,
        Somewhere(PersonRead),
    );
    add(
        "GET",
        "/import/residents",
        "/import/residents".into(),
        None,
        Somewhere(PersonWrite),
    );
    add(
        "POST",
        "/import/residents",
        "/import/residents".into(),
        None,
        Somewhere(PersonWrite),
    );
    add(
        "GET",
        "/import/residents/template.xlsx",
        "/import/residents/template.xlsx".into(),
        None,
        Somewhere(PersonWrite),
    );
    add(
        "POST",
        "/api/import/residents",
        "/api/import/residents?filename=r.csv".into(),
        None,
        Somewhere(PersonWrite),
    );
    let today = wangge_store::today();
    for i in 0..2 {
        let g = &o.grid[i];
        let r = &o.resident[i];
        let h = &o.household[i];
        let rec = &o.care_record[i];
        let c = &o.community[i];
        // A new person for each request that may create one: a valid ID, unique per run.
        let new_id = |k: usize| {
            let birth = wangge_domain::Date::new(1990, 1 + (n % 12) as u8, 1 + k as u8).unwrap();
            wangge_domain::people::IdNumber::from_parts("370725", birth, 700 + (i * 10 + k) as u16)
                .unwrap()
                .as_str()
                .to_string()
        };
        for (method, template, path, body, need) in [
            (
                "GET",
                "/households/{id}",
                format!("/households/{h}"),
                None,
                On(PersonRead, g.clone()),
            ),
            (
                "GET",
                "/api/households/{id}",
                format!("/api/households/{h}"),
                None,
                On(PersonRead, g.clone()),
            ),
            (
                "GET",
                "/households/{id}/visit",
                format!("/households/{h}/visit"),
                None,
                On(VisitWrite, g.clone()),
            ),
            (
                "POST",
                "/households/{id}/visits",
                format!("/households/{h}/visits"),
                Some(json!({"met": "户主本人", "findings": "矩阵测试走访"})),
                On(VisitWrite, g.clone()),
            ),
            (
                "POST",
                "/api/households/{id}/visits",
                format!("/api/households/{h}/visits"),
                Some(json!({"met": "户主本人", "findings": "矩阵测试走访"})),
                On(VisitWrite, g.clone()),
            ),
            (
                "POST",
                "/households/{id}/close",
                format!("/households/{h}/close"),
                Some(json!({})),
                On(PersonWrite, g.clone()),
            ),
            (
                "POST",
                "/api/households/{id}/close",
                format!("/api/households/{h}/close"),
                Some(json!({})),
                On(PersonWrite, g.clone()),
            ),
            (
                "POST",
                "/households/{id}/place",
                format!("/households/{h}/place"),
                Some(json!({"compound": o.compound[i], "address": "矩阵门牌"})),
                On(PersonWrite, g.clone()),
            ),
            (
                "PUT",
                "/api/households/{id}/place",
                format!("/api/households/{h}/place"),
                Some(json!({"compound": o.compound[i], "address": "矩阵门牌"})),
                On(PersonWrite, g.clone()),
            ),
            (
                "POST",
                "/households/{id}/residents",
                format!("/households/{h}/residents"),
                Some(json!({"name": "矩阵甲", "id_number": new_id(1)})),
                On(PersonWrite, g.clone()),
            ),
            (
                "POST",
                "/api/households/{id}/residents",
                format!("/api/households/{h}/residents"),
                Some(json!({"name": "矩阵乙", "id_number": new_id(2)})),
                On(PersonWrite, g.clone()),
            ),
            (
                "GET",
                "/api/residents/{id}/special-records",
                format!("/api/residents/{r}/special-records"),
                None,
                On(PersonRead, g.clone()),
            ),
            (
                "POST",
                "/residents/{id}/special-records",
                format!("/residents/{r}/special-records"),
                Some(json!({"kind": "残疾人", "helper": "矩阵"})),
                On(SpecialCare, g.clone()),
            ),
            (
                "POST",
                "/api/residents/{id}/special-records",
                format!("/api/residents/{r}/special-records"),
                Some(json!({"kind": "残疾人", "helper": "矩阵"})),
                On(SpecialCare, g.clone()),
            ),
            (
                "POST",
                "/special-records/{id}/follow-ups",
                format!("/special-records/{rec}/follow-ups"),
                Some(json!({"content": "矩阵测试跟进"})),
                On(SpecialCare, g.clone()),
            ),
            (
                "POST",
                "/api/special-records/{id}/follow-ups",
                format!("/api/special-records/{rec}/follow-ups"),
                Some(json!({"content": "矩阵测试跟进"})),
                On(SpecialCare, g.clone()),
            ),
            (
                "POST",
                "/special-records/{id}/end",
                format!("/special-records/{rec}/end"),
                Some(json!({"reason": "矩阵测试解除"})),
                On(SpecialCare, g.clone()),
            ),
            (
                "POST",
                "/api/special-records/{id}/end",
                format!("/api/special-records/{rec}/end"),
                Some(json!({"reason": "矩阵测试解除"})),
                On(SpecialCare, g.clone()),
            ),
            (
                "GET",
                "/api/residents/{id}/moves",
                format!("/api/residents/{r}/moves"),
                None,
                On(PersonRead, g.clone()),
            ),
            (
                "POST",
                "/residents/{id}/edit",
                format!("/residents/{r}/edit"),
                Some(json!({"name": "矩阵改名", "phone": "13800138000"})),
                On(PersonWrite, g.clone()),
            ),
            (
                "PUT",
                "/api/residents/{id}/basic",
                format!("/api/residents/{r}/basic"),
                Some(json!({"name": "矩阵改名"})),
                On(PersonWrite, g.clone()),
            ),
            (
                "GET",
                "/api/compounds/{id}/households",
                format!("/api/compounds/{}/households", o.compound[i]),
                None,
                On(PersonRead, g.clone()),
            ),
            (
                "POST",
                "/compounds/{id}/households",
                format!("/compounds/{}/households", o.compound[i]),
                Some(json!({"kind": "registered", "address": "矩阵"})),
                On(PersonWrite, g.clone()),
            ),
            (
                "POST",
                "/api/compounds/{id}/households",
                format!("/api/compounds/{}/households", o.compound[i]),
                Some(json!({"kind": "residing", "address": "矩阵"})),
                On(PersonWrite, g.clone()),
            ),
            // A transfer to a household that does not exist: refused or invalid, never applied.
            (
                "POST",
                "/residents/{id}/moves",
                format!("/residents/{r}/moves"),
                Some(
                    json!({"kind": "transfer", "date": today.to_string(), "household": "NO-SUCH"}),
                ),
                On(PersonWrite, g.clone()),
            ),
            (
                "POST",
                "/api/residents/{id}/moves",
                format!("/api/residents/{r}/moves"),
                Some(
                    json!({"kind": "transfer", "date": today.to_string(), "household": "NO-SUCH"}),
                ),
                On(PersonWrite, g.clone()),
            ),
            (
                "GET",
                "/api/grids/{key}/special-records",
                format!("/api/grids/{g}/special-records"),
                None,
                On(PersonRead, g.clone()),
            ),
            (
                "GET",
                "/api/grids/{key}/visits",
                format!("/api/grids/{g}/visits"),
                None,
                On(PersonRead, g.clone()),
            ),
            (
                "GET",
                "/api/people/stats/{code}",
                format!("/api/people/stats/{c}"),
                None,
                On(PersonRead, c.clone()),
            ),
        ] {
            add(method, template, path, body, need);
        }
    }
    // Adopting plans changes the grids: near the end.
    for c in &o.community {
        add(
            "POST",
            "/plan/communities/{code}/adopt",
            format!("/plan/communities/{c}/adopt"),
            Some(json!({"min": "500", "max": "600"})),
            On(PlanAdopt, c.clone()),
        );
        add(
            "POST",
            "/api/plan/communities/{code}/adopt",
            format!("/api/plan/communities/{c}/adopt"),
            Some(json!({"min": 500, "max": 600})),
            On(PlanAdopt, c.clone()),
        );
    }
    for st in &o.street {
        add(
            "POST",
            "/plan/streets/{code}/adopt",
            format!("/plan/streets/{st}/adopt"),
            Some(json!({"min": "500", "max": "600"})),
            On(PlanAdopt, st.clone()),
        );
        add(
            "POST",
            "/api/plan/streets/{code}/adopt",
            format!("/api/plan/streets/{st}/adopt"),
            Some(json!({"min": 500, "max": 600})),
            On(PlanAdopt, st.clone()),
        );
    }
    // Last: it ends the session.
    add("POST", "/logout", "/logout".into(), Some(json!({})), Anyone);
    v
}

fn form_fields(body: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(o) = body.as_object() {
        for (k, v) in o {
            match v {
                Value::Array(a) => out.extend(
                    a.iter()
                        .map(|x| (k.clone(), x.as_str().unwrap_or("").to_string())),
                ),
                Value::String(s) => out.push((k.clone(), s.clone())),
                other => out.push((k.clone(), other.to_string())),
            }
        }
    }
    out
}

async fn run(app: &TestApp, c: &Case) -> StatusCode {
    let api = c.path.starts_with("/api/");
    if c.template == "/import" && c.method == "POST" {
        let boundary = "MATRIX";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n{}\r\n--{boundary}--\r\n",
            app.csrf.clone().unwrap_or_default(),
            annex2_for_baodu()
        );
        return app
            .send_bytes(
                "POST",
                "/import",
                Some(body.into_bytes()),
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .await
            .status;
    }
    if (c.template.ends_with("/boundaries")
        || c.template.ends_with("/barriers")
        || c.template.ends_with("/departments/{id}/grids"))
        && (c.method == "POST" || c.method == "PUT")
    {
        // A boundary file naming no compound of the community (for barriers: a polygon, not a
        // line; for a department's layer: an outline around no compound): refused for what it
        // says (422) where the user may write, 403 where not.
        let geojson = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"矩阵无此小区"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}"#;
        if api {
            return app
                .send_bytes(
                    c.method,
                    &c.path,
                    Some(geojson.as_bytes().to_vec()),
                    "application/geo+json",
                )
                .await
                .status;
        }
        let boundary = "MATRIX";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.geojson\"\r\nContent-Type: application/geo+json\r\n\r\n{geojson}\r\n--{boundary}--\r\n",
            app.csrf.clone().unwrap_or_default(),
        );
        return app
            .send_bytes(
                "POST",
                &c.path,
                Some(body.into_bytes()),
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .await
            .status;
    }
    if c.template == "/import/residents" && c.method == "POST" {
        let boundary = "MATRIX";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.csv\"\r\nContent-Type: text/csv\r\n\r\n{}\r\n--{boundary}--\r\n",
            app.csrf.clone().unwrap_or_default(),
            residents_with_a_bad_id()
        );
        return app
            .send_bytes(
                "POST",
                "/import/residents",
                Some(body.into_bytes()),
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .await
            .status;
    }
    if c.template == "/api/import/residents" {
        return app
            .send_bytes(
                "POST",
                &c.path,
                Some(residents_with_a_bad_id().into_bytes()),
                "text/csv",
            )
            .await
            .status;
    }
    if c.template == "/api/import/communities" {
        return app
            .send_bytes(
                "POST",
                &c.path,
                Some(annex2_for_baodu().into_bytes()),
                "text/csv",
            )
            .await
            .status;
    }
    match (c.method, api) {
        ("GET", _) => app.get(&c.path).await.status,
        (m, true) => {
            app.json(m, &c.path, c.body.clone().unwrap_or(json!({})))
                .await
                .status
        }
        (_, false) => {
            let fields = form_fields(c.body.as_ref().unwrap_or(&json!({})));
            let refs: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            app.form(&c.path, &refs).await.status
        }
    }
}

#[tokio::test]
async fn authorization_matrix_over_every_route() {
    let mut app = TestApp::demo().await;
    let o = objects(&app).await;
    let who = vec![
        Who {
            name: "m_county",
            role: Role::CountyAdmin,
            scope: "370725".into(),
        },
        Who {
            name: "m_street",
            role: Role::StreetAdmin,
            scope: "370725001".into(),
        },
        Who {
            name: "m_community",
            role: Role::CommunityStaff,
            scope: "370725001001".into(),
        },
        Who {
            name: "m_grid",
            role: Role::GridWorker,
            scope: "370725001001001".into(),
        },
        Who {
            name: "m_department",
            role: Role::DepartmentStaff,
            scope: o.department[0].clone(),
        },
        Who {
            name: "m_observer",
            role: Role::Observer,
            scope: "370725001".into(),
        },
        Who {
            name: "m_system",
            role: Role::SystemAdmin,
            scope: "370725".into(),
        },
        Who {
            name: "m_security",
            role: Role::SecurityAdmin,
            scope: "370725".into(),
        },
        Who {
            name: "m_audit",
            role: Role::AuditAdmin,
            scope: "370725".into(),
        },
    ];
    let hash = wangge_web::hash_password(PW).unwrap();
    for w in &who {
        let id = app
            .store
            .create_user(w.name, None, &hash, false)
            .await
            .unwrap();
        let kind = *w
            .role
            .scope_kinds()
            .iter()
            .find(|k| {
                wangge_domain::access::Scope::parse(**k, &w.scope).is_ok()
                    && (w.role == Role::DepartmentStaff)
                        == (**k == wangge_domain::access::ScopeKind::Department)
            })
            .unwrap();
        let grant = wangge_domain::access::Grant::new(
            w.role,
            wangge_domain::access::Scope::parse(kind, &w.scope).unwrap(),
        )
        .unwrap();
        app.store.set_grants(&id, &[grant]).await.unwrap();
        if w.role.needs_two_factors() {
            app.store
                .set_totp(&id, Some(USER_TOTP), true)
                .await
                .unwrap();
        }
    }

    // Every route of the router is in the matrix.
    let table = cases(&o, 0);
    let covered: std::collections::BTreeSet<(String, String)> = table
        .iter()
        .map(|c| (c.method.to_string(), c.template.to_string()))
        .collect();
    for (method, path) in wangge_web::protected_route_list() {
        assert!(
            covered.contains(&(method.to_string(), path.clone())),
            "route {method} {path} is missing from the authorization matrix"
        );
    }

    let mut failures = Vec::new();
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (n, w) in who.iter().enumerate() {
        let code = if w.role.needs_two_factors() {
            totp_now(USER_TOTP)
        } else {
            String::new()
        };
        app.login_as(w.name, PW, &code).await;
        for c in cases(&o, n + 1) {
            let status = run(&app, &c).await;
            let expect = allowed(w, &c.need);
            let ok = if expect {
                status != StatusCode::FORBIDDEN
                    && status != StatusCode::UNAUTHORIZED
                    && status.as_u16() < 500
            } else {
                status == StatusCode::FORBIDDEN
            };
            let e = counts.entry(w.name).or_default();
            if expect {
                e.0 += 1
            } else {
                e.1 += 1
            }
            if !ok {
                failures.push(format!(
                    "{} ({}@{}): {} {} → {} but should be {}",
                    w.name,
                    w.role.key(),
                    w.scope,
                    c.method,
                    c.path,
                    status,
                    if expect { "allowed" } else { "denied (403)" }
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong answers:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The matrix really tested both answers for the narrow roles.
    assert!(
        counts["m_grid"].0 > 5 && counts["m_grid"].1 > 20,
        "{counts:?}"
    );
    assert!(
        counts["m_street"].0 > 20 && counts["m_street"].1 > 20,
        "{counts:?}"
    );
}

async fn with_user(app: &mut TestApp, name: &str, grants: &str) {
    app.login_new(name, PW, grants).await;
}

#[tokio::test]
async fn lists_counts_searches_and_exports_hold_only_the_scope() {
    let mut app = TestApp::demo().await;
    with_user(&mut app, "street_only", "street_admin@370725001").await;
    // The county's comparison is not offered to one who reads a street only.
    let home = app.get("/").await.text();
    assert!(
        home.contains("宝都街道") && !home.contains("/plan/compare"),
        "{home}"
    );
    let o = app.overview().await;
    let streets: Vec<&str> = o["streets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["street"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(streets, vec!["宝都街道"]);
    assert_eq!(
        o["totals"]["households"], 98161,
        "counts are of the scope only"
    );
    let hits = app
        .get("/api/search?q=%E7%A4%BE%E5%8C%BA&limit=200")
        .await
        .json(); // 社区
    assert!(
        hits.as_array().unwrap().iter().all(|h| h["key"]
            .as_str()
            .unwrap()
            .starts_with("370725001")
            || h["level"] == "compound")
    );
    assert!(
        !hits
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"] == "昌明社区")
    );
    let csv = app.get("/api/export/communities?format=csv").await;
    let text = String::from_utf8_lossy(&csv.body).to_string();
    assert!(
        text.contains("宝昌社区") && !text.contains("昌明社区"),
        "{text}"
    );

    with_user(&mut app, "community_only", "community_staff@370725001001").await;
    let o = app.overview().await;
    let communities: Vec<&str> = o["streets"][0]["communities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(communities, vec!["宝昌社区"]);
    assert_eq!(o["totals"]["households"], 4350);
    let sheets = wangge_sheets::read(
        "x.csv",
        &app.get("/api/export/communities?format=csv").await.body,
    )
    .unwrap();
    let names: Vec<&String> = sheets[0].rows.iter().filter_map(|r| r.get(1)).collect();
    assert!(names.contains(&&"宝昌社区".to_string()) && !names.contains(&&"三和社区".to_string()));

    // A grid worker sees his grid and its compounds, nothing of the grid next door, and
    // exports no community table.
    with_user(&mut app, "grid_only", "grid_worker@370725001001001").await;
    assert_eq!(
        app.get("/api/grids/370725001001001").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/grids/370725001001002").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/communities/370725001001").await.status,
        StatusCode::FORBIDDEN
    );
    let hits = app
        .get("/api/search?q=%E5%AE%9D%E6%98%8C&limit=200")
        .await
        .json(); // 宝昌
    let keys: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["level"].as_str().unwrap())
        .collect();
    assert!(
        keys.iter().all(|k| *k == "grid" || *k == "compound"),
        "{hits}"
    );
    assert!(!hits.as_array().unwrap().is_empty());
    assert_eq!(
        app.get("/api/export/communities?format=csv").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        app.overview().await["streets"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn lockout_session_limits_logout_everywhere_and_two_factors() {
    let mut app = TestApp::demo_logged_out().await;
    let hash = wangge_web::hash_password(PW).unwrap();
    let id = app
        .store
        .create_user("clerk", None, &hash, false)
        .await
        .unwrap();
    app.store
        .set_grants(
            &id,
            &wangge_web::admin::parse_grants("community_staff@370725001001").unwrap(),
        )
        .await
        .unwrap();

    // Five wrong passwords lock the account; then even the right one is refused.
    for _ in 0..5 {
        let r = app
            .form_raw("/login", &[("username", "clerk"), ("password", "wrong")])
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app
        .form_raw("/login", &[("username", "clerk"), ("password", PW)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().contains("账号已锁定"));
    // The system administrator's reset clears the lock (and sets a one-time password).
    app.login().await;
    let r = app
        .json("POST", &format!("/api/users/{id}/password"), json!({}))
        .await;
    let one_time = r.json()["one_time_password"].as_str().unwrap().to_string();
    app.login_as("clerk", &one_time, "").await;
    assert_eq!(
        app.get("/api/session").await.json()["must_change_password"],
        true
    );

    // Idle sessions end; so do sessions past their absolute limit.
    let first = app.cookie.clone().unwrap();
    let token = first.split('=').nth(1).unwrap();
    app.store
        .age_session(&wangge_web::auth::token_hash(token), 31 * 60)
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/overview").await.status,
        StatusCode::UNAUTHORIZED
    );
    app.login_as("clerk", &one_time, "").await;
    app.store
        .execute_as_app("UPDATE user_session SET expires_at = 1")
        .await
        .unwrap();
    assert_eq!(
        app.get("/api/overview").await.status,
        StatusCode::UNAUTHORIZED
    );

    // Logout ends every session of the user, on every device.
    app.login_as("clerk", &one_time, "").await;
    let phone = (app.cookie.clone(), app.csrf.clone());
    app.login_as("clerk", &one_time, "").await;
    assert_eq!(app.get("/api/session").await.status, StatusCode::OK);
    let r = app.form("/logout", &[]).await;
    assert_eq!(r.location(), "/login");
    assert_eq!(
        app.get("/api/overview").await.status,
        StatusCode::UNAUTHORIZED
    );
    (app.cookie, app.csrf) = phone;
    assert_eq!(
        app.get("/api/overview").await.status,
        StatusCode::UNAUTHORIZED,
        "the other device is out too"
    );

    // An administrator role without a second factor reaches only the enrolment page.
    let id2 = app
        .store
        .create_user("boss", None, &hash, false)
        .await
        .unwrap();
    app.store
        .set_grants(
            &id2,
            &wangge_web::admin::parse_grants("county_admin@370725").unwrap(),
        )
        .await
        .unwrap();
    app.login_as("boss", PW, "").await;
    let r = app.get("/").await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/account".to_string())
    );
    assert_eq!(app.get("/api/overview").await.status, StatusCode::FORBIDDEN);
    let page = app.form("/account/totp", &[]).await.text();
    // A QR code to scan, drawn on the server (no script, nothing fetched).
    assert!(
        page.contains("<svg class=\"qr\"") && page.contains("<path d=\"M0 0h1v1h-1z"),
        "{page}"
    );
    let secret = page
        .split("<code class=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let r = app
        .form("/account/totp/confirm", &[("code", "000000")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .form("/account/totp/confirm", &[("code", &totp_now(&secret))])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/overview").await.status,
        StatusCode::OK,
        "enrolled: in"
    );
    // From now on the code is part of the login.
    app.cookie = None;
    let r = app
        .form_raw(
            "/login",
            &[("username", "boss"), ("password", PW), ("totp", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.text().contains("用户名、密码或动态验证码不正确"));
    app.login_as("boss", PW, &totp_now(&secret)).await;
    assert_eq!(app.get("/api/overview").await.status, StatusCode::OK);

    // The first administrator (WANGGE_ADMIN_TOTP_SECRET) must give the code, in the same post.
    app.cookie = None;
    let r = app
        .form_raw("/login", &[("username", "admin"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    app.login_as("admin", PASSWORD, &totp_now(TOTP)).await;

    // Each client address is limited too, whatever the usernames.
    for i in 0..20 {
        app.form_raw(
            "/login",
            &[("username", &format!("nobody{i}")), ("password", "x")],
        )
        .await;
    }
    let r = app
        .form_raw(
            "/login",
            &[
                ("username", "admin"),
                ("password", PASSWORD),
                ("totp", &totp_now(TOTP)),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_audit_log_is_a_chain_the_database_guards() {
    let mut app = TestApp::demo().await;
    app.json("PUT", "/api/streets/370725001", json!({"name": "宝都街道"}))
        .await;
    app.get("/api/export/communities?format=csv").await;
    app.cookie = None;
    app.form_raw("/login", &[("username", "admin"), ("password", "wrong")])
        .await;
    app.login().await;

    let rows = app
        .store
        .audit_rows(&wangge_store::AuditFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let actions: Vec<String> = rows
        .iter()
        .map(|r| format!("{} {} {}", r.action, r.object, r.result))
        .collect();
    assert!(
        actions.contains(&"PUT /api/streets/370725001 200".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"export GET /api/export/communities 200".to_string()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"login /login failed".to_string()),
        "{actions:?}"
    );
    assert!(actions.contains(&"login /login ok".to_string()));
    assert!(rows.iter().any(|r| r.roles.contains("county_admin@370725")));
    assert!(matches!(
        app.store.verify_audit().await.unwrap(),
        wangge_store::AuditCheck::Intact { .. }
    ));

    // The application's own database role can neither change nor delete a row.
    assert!(
        app.store
            .execute_as_app("DELETE FROM audit_log")
            .await
            .is_err()
    );
    assert!(
        app.store
            .execute_as_app("UPDATE audit_log SET result = 'ok' WHERE seq = 2")
            .await
            .is_err()
    );

    // Someone with the database's keys changes one byte of row 2: verify names row 2.
    let postgres = matches!(app.store.backend(), wangge_store::Backend::Postgres);
    if postgres {
        app.store
            .execute_as_app("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            .await
            .unwrap();
    } else {
        app.store
            .execute_as_app("DROP TRIGGER audit_log_no_update")
            .await
            .unwrap();
    }
    app.store
        .execute_as_app("UPDATE audit_log SET object = REPLACE(object, '/', '|') WHERE seq = 2")
        .await
        .unwrap();
    match app.store.verify_audit().await.unwrap() {
        wangge_store::AuditCheck::Broken { seq, .. } => assert_eq!(seq, 2),
        other => panic!("tampering not found: {other:?}"),
    }
    // The audit administrator sees the warning on the page; others may not read the log.
    let page = app.get("/audit").await;
    assert_eq!(
        page.status,
        StatusCode::FORBIDDEN,
        "the county administrator is not the auditor"
    );
    with_user(&mut app, "auditor", "audit_admin@370725").await;
    // (An audit administrator needs two factors: enrol first.)
    let page = app.form("/account/totp", &[]).await.text();
    // A QR code to scan, drawn on the server (no script, nothing fetched).
    assert!(
        page.contains("<svg class=\"qr\"") && page.contains("<path d=\"M0 0h1v1h-1z"),
        "{page}"
    );
    let secret = page
        .split("<code class=\"secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    app.form("/account/totp/confirm", &[("code", &totp_now(&secret))])
        .await;
    let page = app.get("/audit").await.text();
    assert!(page.contains("第 2 行校验失败"), "{page}");
    let csv = app.get("/audit/export.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    // A mistyped date is refused, named, not read as "no rows"; 2026/11/24 is a date.
    let r = app.get("/audit?from=2026-13-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("起始日期"), "{}", r.text());
    let r = app.get("/api/audit?to=2026-13-01").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get("/audit?from=2020%2F1%2F1").await.status,
        StatusCode::OK
    );
    // Dates are Beijing dates, like every date the users type: today's rows are today's.
    let today = wangge_store::today().to_string();
    let rows = app
        .get(&format!("/api/audit?from={today}&to={today}"))
        .await
        .json();
    let first = &rows.as_array().expect("rows of today")[0];
    assert!(
        first["at_china"].as_str().unwrap().starts_with(&today),
        "{first}"
    );
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_headers_are_on_every_answer() {
    let app = TestApp::demo().await;
    let token = app.csrf.clone().unwrap();
    // A form post without the token.
    let r = app
        .form_raw(
            "/new/streets",
            &[("code", "370725009"), ("name", "偷建街道")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // With a wrong token.
    let r = app
        .form_raw(
            "/new/streets",
            &[
                ("csrf", "0000"),
                ("code", "370725009"),
                ("name", "偷建街道"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An API write without the header.
    let mut bare = TestApp::demo().await;
    bare.csrf = None;
    let r = bare
        .json(
            "POST",
            "/api/streets",
            json!({"code": "370725009", "name": "偷建街道"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The right token from another site.
    let mut req = axum::http::Request::builder()
        .method("POST")
        .uri("/new/streets")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", app.cookie.clone().unwrap())
        .header("origin", "https://evil.example")
        .header("host", "127.0.0.1:8080");
    let _ = &mut req;
    let res = tower::ServiceExt::oneshot(
        app.router.clone(),
        req.body(axum::body::Body::from(format!(
            "csrf={token}&code=370725009&name=x"
        )))
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = tower::ServiceExt::oneshot(
        app.router.clone(),
        axum::http::Request::builder()
            .method("POST")
            .uri("/new/streets")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", app.cookie.clone().unwrap())
            .header("sec-fetch-site", "cross-site")
            .body(axum::body::Body::from(format!(
                "csrf={token}&code=370725009&name=x"
            )))
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(
        app.get("/api/streets/370725009").await.status == StatusCode::NOT_FOUND,
        "nothing was created"
    );
    // With the token and from this site: it goes through.
    let r = app
        .form("/new/streets", &[("code", "370725009"), ("name", "新街道")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // Security headers on every kind of answer.
    let mut logged_out = TestApp::demo_logged_out().await;
    logged_out.cookie = None;
    for r in [
        app.get("/").await,
        app.get("/api/overview").await,
        app.get("/communities/370725001001").await,
        app.get("/no/such/page").await,
        logged_out.get("/login").await,
        logged_out.get("/api/overview").await,
        logged_out.get("/healthz").await,
        logged_out.get("/static/style.css").await,
    ] {
        let h = &r.headers;
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline")
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
    }
    assert_eq!(
        app.get("/api/communities/370725001001").await.headers["cache-control"],
        "no-store"
    );
    assert_eq!(
        app.get("/communities/370725001001").await.headers["cache-control"],
        "no-store"
    );
}

/// 三员分立: nobody changes their own roles; the system, security and audit administrators are
/// three people; their permissions stay as shipped and no other role gets them.
#[tokio::test]
async fn the_three_administrators_stay_separate() {
    let mut app = TestApp::demo().await;
    let admin = app.store.user_by_name("admin").await.unwrap().unwrap().id;
    // Until someone splits them, the first administrator's setup roles are pointed out.
    let list = app.get("/users").await.text();
    assert!(
        list.contains("账号 admin 仍兼任") && list.contains("三员分立要求由三人分别担任"),
        "{list}"
    );
    let r = app
        .json(
            "PUT",
            &format!("/api/users/{admin}/roles"),
            json!({"grants": ["security_admin@370725", "county_admin@370725", "grid_worker@370725001001001"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.text().contains("不能修改自己的角色"), "{}", r.text());

    let other = app
        .json("POST", "/api/users", json!({"username": "sec2"}))
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.text());
    let id = other.json()["id"].as_str().unwrap().to_string();
    let r = app
        .json(
            "PUT",
            &format!("/api/users/{id}/roles"),
            json!({"grants": ["system_admin@370725", "security_admin@370725"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("应由不同的人担任"), "{}", r.text());
    // A role change is audited with what the user held before and after.
    let r = app
        .json(
            "PUT",
            &format!("/api/users/{id}/roles"),
            json!({"grants": ["observer@370725001"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let row = app
        .store
        .audit_rows(&wangge_store::AuditFilter {
            limit: 5,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.action == "roles")
        .expect("an audit row with the change");
    assert_eq!(row.object, "user:sec2 无 → observer@370725001");
    // Saving the same roles again changes nothing, and writes no role change.
    let r = app
        .json(
            "PUT",
            &format!("/api/users/{id}/roles"),
            json!({"grants": ["observer@370725001"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let changes = app
        .store
        .audit_rows(&wangge_store::AuditFilter {
            action: Some("roles".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.object.starts_with("user:sec2"))
        .count();
    assert_eq!(changes, 1);
    // Who created it (and so knows its one-time password) may not clear its second factor.
    let r = app
        .json("POST", &format!("/api/users/{id}/totp-reset"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());

    let table = |extra: &[(&str, &str)], drop: Option<(&str, &str)>| {
        let mut rows: Vec<Value> = default_permissions()
            .iter()
            .filter(|(r, p)| Some((r.key(), p.key())) != drop)
            .map(|(r, p)| json!({"role": r.key(), "permission": p.key()}))
            .collect();
        rows.extend(
            extra
                .iter()
                .map(|(r, p)| json!({"role": r, "permission": p})),
        );
        Value::Array(rows)
    };
    for (body, says) in [
        (
            table(&[("security_admin", "person.reveal")], None),
            "安全管理员的权限固定",
        ),
        (
            table(&[], Some(("audit_admin", "audit.read"))),
            "审计管理员的权限固定",
        ),
        (
            table(&[("county_admin", "audit.read")], None),
            "不能给县级管理员",
        ),
        (json!([]), "权限固定"),
    ] {
        let r = app.json("PUT", "/api/permissions", body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert!(r.text().contains(says), "{says}: {}", r.text());
    }
    let sorted = |v: Value| {
        let mut rows: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.to_string())
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(
        sorted(app.get("/api/permissions").await.json()),
        sorted(permission_body()),
        "nothing was written"
    );
    // The form shows the administrators' cells fixed; what it sends for them is ignored.
    let page = app.get("/permissions").await.text();
    assert!(
        page.contains(r#"value="security_admin|role.manage" aria-label="security_admin|role.manage" checked disabled"#),
        "{page}"
    );
    let form = [
        ("grant", "security_admin|person.reveal"),
        ("grant", "county_admin|registry.read"),
    ];
    // The first administrator also holds 县级管理员 (setup roles): he may not change its row,
    // or a security administrator with a business role could give himself full numbers.
    let r = app.form("/permissions", &form).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(
        r.text()
            .contains("不能修改自己所持角色（县级管理员）的权限"),
        "{}",
        r.text()
    );
    let r = app
        .json(
            "PUT",
            "/api/permissions",
            table(&[("county_admin", "person.reveal")], None),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    // A security administrator holding nothing else may; the audit row says what changed.
    app.login_new_with_totp("sec3", PW, "security_admin@370725", USER_TOTP)
        .await;
    // Each administrator sees the actions that are his on the account's page.
    let page = app.get(&format!("/users/{id}")).await.text();
    assert!(
        page.contains("保存角色") && !page.contains("重置密码</button>"),
        "{page}"
    );
    // Another security administrator may, but the account has no second factor to clear.
    let r = app
        .json("POST", &format!("/api/users/{id}/totp-reset"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("没有两步验证"), "{}", r.text());
    // An account created with a one-time password starts on hold, and the hold is not
    // released before its owner has set his own password.
    let created = app.get(&format!("/api/users/{id}")).await.json();
    assert_eq!(created["reveal_held"], true, "{created}");
    let r = app
        .json(
            "POST",
            &format!("/api/users/{id}/release-reveal"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("请本人先登录修改密码"), "{}", r.text());
    // The security administrator finds accounts in the list (to give roles), without the
    // system administrator's form to create them.
    let list = app.get("/users").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.text()
            .contains(&format!("<a href=\"/users/{id}\">sec2</a>"))
            && !list.text().contains("新建账号</button>"),
        "{}",
        list.text()
    );
    let r = app.form("/permissions", &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let row = app
        .store
        .audit_rows(&wangge_store::AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.action == "permissions")
        .expect("an audit row with the change");
    assert!(
        row.user == "sec3"
            && row.object.contains("-county_admin|registry.write")
            && !row.object.contains("+county_admin|registry.read")
            && !row.object.contains("security_admin"),
        "{row:?}"
    );
    let now = app.get("/api/permissions").await.json();
    let rows: Vec<(String, String)> = now
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["role"].as_str().unwrap().into(),
                x["permission"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(rows.contains(&("security_admin".into(), "role.manage".into())));
    assert!(rows.contains(&("audit_admin".into(), "audit.read".into())));
    assert!(!rows.contains(&("security_admin".into(), "person.reveal".into())));
    assert!(rows.contains(&("county_admin".into(), "registry.read".into())));
}

/// Reading people's records is audited (who looked at whose data), a list with its page; the
/// registry's own pages are not.
#[tokio::test]
async fn reads_of_people_s_records_are_audited() {
    let mut app = TestApp::demo().await;
    wangge_web::people::load_demo_residents(&app.store, 3)
        .await
        .unwrap();
    let compound = app.get("/api/communities/370725001001").await.json()["compounds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["grid_code"] == "370725001001001")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.login_new("gw", "网格员的密码-1", "grid_worker@370725001001001")
        .await;
    let list = app.get("/api/grids/370725001001001/residents?page=0").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    let id = list.json()["residents"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get(&format!("/residents/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/search?q=宝昌").await.status, StatusCode::OK);
    // A grid's special groups (key persons: names, classes, risk) and a compound's households
    // (numbers, addresses, members) are people's records too.
    let special = "/api/grids/370725001001001/special-records";
    assert_eq!(app.get(special).await.status, StatusCode::OK);
    let households = format!("/api/compounds/{compound}/households");
    assert_eq!(app.get(&households).await.status, StatusCode::OK);
    let rows = app
        .store
        .audit_rows(&wangge_store::AuditFilter {
            user: Some("gw".into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let read: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r.action.starts_with("read"))
        .map(|r| (r.action.as_str(), r.object.as_str()))
        .collect();
    assert!(
        read.contains(&("read GET", "/api/grids/370725001001001/residents?page=0")),
        "{read:?}"
    );
    assert!(
        read.contains(&("read GET", &*format!("/residents/{id}"))),
        "{read:?}"
    );
    for path in [special, &households] {
        assert!(read.contains(&("read GET", path)), "{path}: {read:?}");
    }
    assert!(
        !rows.iter().any(|r| r.object.starts_with("/search")),
        "registry pages are not people's records"
    );
}

/// A grid page names the grids its compounds came from and went to, linked only where the
/// reader may follow.
#[tokio::test]
async fn a_grid_worker_sees_where_a_compound_came_from_without_a_link_he_cannot_follow() {
    let mut app = TestApp::demo().await;
    let (from, to) = ("370725001001001", "370725001001002");
    let grid = app.get(&format!("/api/grids/{from}")).await.json();
    let id = grid["compounds"][0]["id"].as_str().unwrap().to_string();
    let r = app
        .json("PUT", &format!("/api/compounds/{id}"), json!({"grid": to}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let admin_page = app.get(&format!("/grids/{to}")).await.text();
    assert!(
        admin_page.contains(&format!(r#"（原网格 <a href="/grids/{from}">{from}</a>）"#)),
        "{admin_page}"
    );
    app.login_new("gw2", "网格员的密码-1", &format!("grid_worker@{to}"))
        .await;
    let page = app.get(&format!("/grids/{to}")).await.text();
    assert!(page.contains(&format!("（原网格 {from}）")), "{page}");
    assert!(
        !page.contains(&format!(r#"href="/grids/{from}""#)),
        "{page}"
    );
}
