//! Budgets and compliance from registry + policy: the county, a street, a community with its
//! grids and people; the findings with filters; the 附件3 / 附件4 workbook. Pages and API.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use wangge_domain::access::Permission;
use wangge_domain::policy::tables::{annex_tables, wan_text};
use wangge_domain::policy::{CommunityBudget, Evaluation, Finding, Policy, evaluate};

use crate::error::{ApiError, AppError, PageError};
use crate::pages::{Crumb, Me};
use crate::{Principal, SharedState};

/// The demo county with its staff placed under the shipped 昌乐 policy.
pub async fn load_demo(store: &wangge_store::Store) -> Result<bool, String> {
    let county = wangge_domain::demo::county();
    let policies = shipped_policies();
    let changle = policies
        .iter()
        .find(|p| p.jurisdiction_code() == wangge_domain::demo::COUNTY_CODE)
        .ok_or("缺少昌乐县政策文件")?;
    let staff = wangge_domain::demo::staff(&county, changle);
    let loaded = store
        .load_demo(&county, &staff)
        .await
        .map_err(|e| e.to_string())?;
    if loaded {
        // The police's own grids, to fold into the unified ones.
        let grids = wangge_domain::demo::police_grids(&county);
        store
            .load_demo_department_grids(wangge_domain::demo::POLICE, &grids)
            .await
            .map_err(|e| e.to_string())?;
        // The roads, railways and rivers 附件2 names around each community.
        store
            .load_demo_barriers(&wangge_domain::demo::boundary_lines(&county))
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(loaded)
}

/// The policies shipped with wangge (policies/ in the repository), used unless a policy
/// directory is given.
pub fn shipped_policies() -> Vec<Policy> {
    let files = [
        (
            "370725-changle-2020.toml",
            include_str!("../../../policies/370725-changle-2020.toml"),
        ),
        (
            "411002-weidu-2013.toml",
            include_str!("../../../policies/411002-weidu-2013.toml"),
        ),
        (
            "411002-weidu-2014.toml",
            include_str!("../../../policies/411002-weidu-2014.toml"),
        ),
        (
            "411002-weidu-2015.toml",
            include_str!("../../../policies/411002-weidu-2015.toml"),
        ),
        (
            "411002-weidu-2017.toml",
            include_str!("../../../policies/411002-weidu-2017.toml"),
        ),
    ];
    files
        .iter()
        .filter_map(|(name, text)| Policy::parse(name, text).ok())
        .collect()
}

/// Every `*.toml` in a directory, each checked; the first bad file stops the load with its
/// errors (file, key, what is wrong).
pub fn load_policies(dir: &std::path::Path) -> Result<Vec<Policy>, String> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("无法读取政策目录 {}：{e}", dir.display()))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    for p in paths {
        out.push(load_policy(&p)?);
    }
    Ok(out)
}

pub fn load_policy(p: &std::path::Path) -> Result<Policy, String> {
    let text =
        std::fs::read_to_string(p).map_err(|e| format!("无法读取政策文件 {}：{e}", p.display()))?;
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Policy::parse(&name, &text).map_err(|e| e.to_string())
}

pub(crate) fn routes() -> crate::Routes {
    crate::Routes::new()
        .route("/budget", &["GET"], get(budget_page))
        .route("/budget/communities/{code}", &["GET"], get(community_page))
        .route("/budget/findings", &["GET"], get(findings_page))
        .route("/export/budget.xlsx", &["GET"], get(workbook))
        .route("/api/budget", &["GET"], get(api_budget))
        .route("/api/budget/findings", &["GET"], get(api_findings))
        .route(
            "/budget/communities/{code}/investment",
            &["POST"],
            axum::routing::post(investment_page),
        )
        .route(
            "/budget/streets/{code}/recruitment",
            &["POST"],
            axum::routing::post(recruitment_page),
        )
        .route(
            "/api/communities/{key}/investment",
            &["PUT"],
            axum::routing::put(api_investment),
        )
        .route(
            "/api/streets/{key}/recruitment",
            &["PUT"],
            axum::routing::put(api_recruitment),
        )
}

#[derive(Deserialize, Default)]
pub struct BudgetQuery {
    year: Option<i32>,
    street: Option<String>,
    kind: Option<String>,
    severity: Option<String>,
    /// Set by the redirect after an entry was saved.
    saved: Option<String>,
}

fn default_year() -> i32 {
    wangge_store::today().year()
}

/// The evaluation of the registry the user may budget, under the policy in force at the end
/// of `year` for the county.
pub async fn evaluation(
    s: &SharedState,
    p: &Principal,
    year: i32,
) -> Result<(Evaluation, Policy, wangge_domain::policy::Snapshot), AppError> {
    if !p.access.can_somewhere(Permission::BudgetRead) {
        return Err(AppError::Forbidden("无权查看预算".into()));
    }
    if !(1990..=2100).contains(&year) {
        return Err(AppError::BadRequest(format!("年份“{year}”无效")));
    }
    let snapshot = s.store.snapshot(&p.access, year).await?;
    let end = wangge_domain::Date::new(year, 12, 31).ok_or(AppError::Internal)?;
    let policy = Policy::in_force(&s.policies, &snapshot.county_code, end)
        .cloned()
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "没有适用于本县（{}）{year} 年的政策文件：预算、补贴和合规检查都按政策文件计算。\
                 请系统管理员以 wangge serve --policies 目录 载入本县的政策文件（写法见 policies/README.md，\
                 可从随附的昌乐县文件改起），或查看其他年份",
                snapshot.county_code
            ))
        })?;
    let e = evaluate(&policy, &snapshot, year);
    Ok((e, policy, snapshot))
}

fn wan(fen: &i64) -> String {
    wan_text(*fen)
}

#[derive(Template)]
#[template(path = "budget.html")]
struct BudgetView {
    me: Me,
    crumbs: Vec<Crumb>,
    e: Evaluation,
    year: i32,
    violations: usize,
    notices: usize,
    /// Recruited social workers as recorded, by street and year.
    recruited: std::collections::HashMap<String, std::collections::BTreeMap<i32, i64>>,
    /// Streets whose entries the user may save.
    writable: Vec<String>,
    saved: bool,
    /// What the figures cover: the county, or the streets the user may read.
    title: String,
}

impl BudgetView {
    fn wan(&self, fen: &i64) -> String {
        wan(fen)
    }
    /// "2020 年 11 人，2021 年 64 人" as recorded for the street, or "尚无记录".
    fn recruited_text(&self, street: &String) -> String {
        match self.recruited.get(street) {
            Some(m) if !m.is_empty() => m
                .iter()
                .map(|(y, n)| format!("{y} 年 {n} 人"))
                .collect::<Vec<_>>()
                .join("，"),
            _ => "尚无记录".into(),
        }
    }
    /// The number recorded for the page's year, to fill the form with.
    fn recruited_now(&self, street: &String) -> String {
        self.recruited
            .get(street)
            .and_then(|m| m.get(&self.year))
            .map_or(String::new(), |n| n.to_string())
    }
    fn may_write(&self, street: &String) -> bool {
        self.writable.contains(street)
    }
}

fn crumbs(items: &[(&str, String)]) -> Vec<Crumb> {
    let mut v = vec![Crumb {
        label: "总览".into(),
        href: "/".into(),
    }];
    v.extend(items.iter().map(|(l, h)| Crumb {
        label: l.to_string(),
        href: h.clone(),
    }));
    v
}

async fn budget_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<BudgetQuery>,
) -> Result<Response, PageError> {
    let year = q.year.unwrap_or_else(default_year);
    let (mut e, _, snapshot) = evaluation(&s, &p, year).await?;
    let title = if snapshot.partial {
        e.streets
            .iter()
            .map(|st| st.name.as_str())
            .collect::<Vec<_>>()
            .join("、")
    } else {
        e.county_name.clone()
    };
    if let Some(st) = q.street.as_deref().filter(|x| !x.is_empty()) {
        e.streets.retain(|x| x.code == st);
    }
    let recruited = snapshot
        .streets
        .iter()
        .map(|st| (st.code.clone(), st.recruited_social_workers.clone()))
        .collect();
    let writable = e
        .streets
        .iter()
        .filter(|st| p.access.can(Permission::RegistryWrite, &st.code))
        .map(|st| st.code.clone())
        .collect();
    let violations = e
        .findings
        .iter()
        .filter(|f| f.severity == wangge_domain::policy::Severity::Violation)
        .count();
    let notices = e.findings.len() - violations;
    Ok(crate::auth::render(&BudgetView {
        me: Me::of(&p),
        crumbs: crumbs(&[("预算与合规", format!("/budget?year={year}"))]),
        e,
        year,
        violations,
        notices,
        recruited,
        writable,
        saved: q.saved.is_some(),
        title,
    }))
}

#[derive(Template)]
#[template(path = "budget_community.html")]
struct CommunityView {
    me: Me,
    crumbs: Vec<Crumb>,
    c: CommunityBudget,
    street: String,
    year: i32,
    findings: Vec<Finding>,
    /// The upgrade investment recorded, by year (万元 text).
    investments: Vec<(i32, String)>,
    can_write: bool,
    saved: bool,
}

impl CommunityView {
    fn wan(&self, fen: &i64) -> String {
        wan(fen)
    }
}

async fn community_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    Query(q): Query<BudgetQuery>,
) -> Result<Response, PageError> {
    let year = q.year.unwrap_or_else(default_year);
    if !p.access.can(Permission::BudgetRead, &code) {
        return Err(AppError::Forbidden("无权查看该社区的预算".into()).into());
    }
    let (e, _, snapshot) = evaluation(&s, &p, year).await?;
    let investments = snapshot
        .streets
        .iter()
        .flat_map(|st| &st.communities)
        .find(|c| c.code == code)
        .map(|c| {
            c.investment_fen
                .iter()
                .map(|(y, fen)| (*y, wan(fen)))
                .collect()
        })
        .unwrap_or_default();
    let Some((street, c)) = e.streets.iter().find_map(|st| {
        st.communities
            .iter()
            .find(|c| c.code == code)
            .map(|c| (st.name.clone(), c.clone()))
    }) else {
        return Err(AppError::NotFound(format!("没有代码为“{code}”的社区")).into());
    };
    let findings = e
        .findings
        .iter()
        .filter(|f| f.community.as_deref() == Some(code.as_str()))
        .cloned()
        .collect();
    Ok(crate::auth::render(&CommunityView {
        me: Me::of(&p),
        crumbs: crumbs(&[
            ("预算与合规", format!("/budget?year={year}")),
            (&c.name, format!("/budget/communities/{code}?year={year}")),
        ]),
        c,
        street,
        year,
        findings,
        investments,
        can_write: p.access.can(Permission::RegistryWrite, &code),
        saved: q.saved.is_some(),
    }))
}

fn filter_findings(e: &Evaluation, q: &BudgetQuery) -> Vec<Finding> {
    e.findings
        .iter()
        .filter(|f| {
            q.street
                .as_deref()
                .filter(|x| !x.is_empty())
                .is_none_or(|st| f.street.as_deref() == Some(st))
        })
        .filter(|f| {
            q.kind
                .as_deref()
                .filter(|x| !x.is_empty())
                .is_none_or(|k| format!("{:?}", f.kind) == k || f.kind.label() == k)
        })
        .filter(|f| {
            q.severity
                .as_deref()
                .filter(|x| !x.is_empty())
                .is_none_or(|sv| {
                    (sv == "violation")
                        == (f.severity == wangge_domain::policy::Severity::Violation)
                })
        })
        .cloned()
        .collect()
}

#[derive(Template)]
#[template(path = "findings.html")]
struct FindingsView {
    me: Me,
    crumbs: Vec<Crumb>,
    year: i32,
    findings: Vec<Finding>,
    kinds: Vec<(String, String)>,
    streets: Vec<(String, String)>,
    kind: String,
    street: String,
    severity: String,
    policy: String,
}

impl FindingsView {
    /// Where a finding's place page is: its grid, else its community, else its street.
    fn link(&self, f: &Finding) -> String {
        match (&f.grid, &f.community, &f.street) {
            (Some(g), _, _) => format!("/grids/{g}"),
            (None, Some(c), _) => format!("/communities/{c}"),
            (None, None, Some(st)) => format!("/streets/{st}"),
            _ => String::new(),
        }
    }
}

async fn findings_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<BudgetQuery>,
) -> Result<Response, PageError> {
    let year = q.year.unwrap_or_else(default_year);
    let (e, policy, _) = evaluation(&s, &p, year).await?;
    // Each category with how many findings it has, most first.
    let mut counts: std::collections::BTreeMap<(String, &str), usize> = Default::default();
    for f in &e.findings {
        *counts
            .entry((format!("{:?}", f.kind), f.kind.label()))
            .or_default() += 1;
    }
    let mut counted: Vec<_> = counts.into_iter().collect();
    counted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let kinds: Vec<(String, String)> = counted
        .into_iter()
        .map(|((key, label), n)| (key, format!("{label}（{n}）")))
        .collect();
    Ok(crate::auth::render(&FindingsView {
        me: Me::of(&p),
        crumbs: crumbs(&[
            ("预算与合规", format!("/budget?year={year}")),
            ("合规检查", format!("/budget/findings?year={year}")),
        ]),
        year,
        findings: filter_findings(&e, &q),
        kinds,
        streets: e
            .streets
            .iter()
            .map(|s| (s.code.clone(), s.name.clone()))
            .collect(),
        kind: q.kind.unwrap_or_default(),
        street: q.street.unwrap_or_default(),
        severity: q.severity.unwrap_or_default(),
        policy: format!("{}（{} 起施行）", policy.file(), policy.effective_from()),
    }))
}

/// 附件3 and 附件4 of the year as one workbook.
pub fn workbook_bytes(
    policy: &Policy,
    snapshot: &wangge_domain::policy::Snapshot,
    e: &Evaluation,
    csv: Option<bool>,
) -> Result<Vec<u8>, String> {
    let (a3, a4) = annex_tables(policy, &snapshot.streets, e, &policy.annex_years(e.year));
    let tables: Vec<&wangge_domain::policy::tables::Table> = a3.iter().chain(a4.iter()).collect();
    match csv {
        None => wangge_sheets::policy_tables_xlsx(&tables),
        Some(gbk) => wangge_sheets::policy_tables_csv(&tables, gbk),
    }
    .map_err(|e| e.to_string())
}

async fn workbook(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<BudgetQuery>,
) -> Result<Response, PageError> {
    let year = q.year.unwrap_or_else(default_year);
    let (e, policy, snapshot) = evaluation(&s, &p, year).await?;
    let bytes = workbook_bytes(&policy, &snapshot, &e, None).map_err(AppError::BadRequest)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"budget-{year}.xlsx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn api_budget(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<BudgetQuery>,
) -> Result<Response, ApiError> {
    let year = q.year.unwrap_or_else(default_year);
    let (e, _, _) = evaluation(&s, &p, year).await?;
    Ok(axum::Json(e).into_response())
}

async fn api_findings(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<BudgetQuery>,
) -> Result<Response, ApiError> {
    let year = q.year.unwrap_or_else(default_year);
    let (e, _, _) = evaluation(&s, &p, year).await?;
    Ok(axum::Json(filter_findings(&e, &q)).into_response())
}

fn field(name: &str, msg: String) -> AppError {
    let mut f = wangge_domain::registry::FieldErrors::new();
    f.insert(name.into(), msg);
    AppError::Invalid(f)
}

fn year_of(f: &wangge_domain::registry::Fields) -> Result<i32, AppError> {
    let y = f.get("year").map(String::as_str).unwrap_or("");
    match wangge_domain::place::parse_count(y) {
        Ok(n) if (1990..=2100).contains(&n) => Ok(n as i32),
        _ => Err(field(
            "year",
            format!("应为年份（如 2021），现为“{}”", y.trim()),
        )),
    }
}

async fn set_investment(
    s: &SharedState,
    p: &Principal,
    code: &str,
    f: &wangge_domain::registry::Fields,
) -> Result<i32, AppError> {
    let year = year_of(f)?;
    let amount = f.get("amount_wan").map(String::as_str).unwrap_or("");
    let fen = wangge_domain::place::parse_wan_fen(amount)
        .map_err(|e| field("amount_wan", e.to_string()))?;
    // 附件3's communities invest a few 万元 to a few hundred: 元 typed into the 万元 field
    // would be ten thousand times too much.
    const MOST_WAN: i64 = 5_000;
    if fen > MOST_WAN * 10_000 * 100 {
        return Err(field(
            "amount_wan",
            format!(
                "{} 万元不合常理，一个社区一年的改造投资应不超过 {MOST_WAN} 万元：单位是万元，不是元",
                amount.trim()
            ),
        ));
    }
    s.store.set_investment(&p.access, code, year, fen).await?;
    Ok(year)
}

async fn set_recruitment(
    s: &SharedState,
    p: &Principal,
    code: &str,
    f: &wangge_domain::registry::Fields,
) -> Result<i32, AppError> {
    let year = year_of(f)?;
    let n = f.get("social_workers").map(String::as_str).unwrap_or("");
    let n =
        wangge_domain::place::parse_count(n).map_err(|e| field("social_workers", e.to_string()))?;
    // A street recruits dozens, not billions: a slip of the keyboard is refused.
    const MOST: i64 = 10_000;
    if n > MOST {
        return Err(field(
            "social_workers",
            format!("{n} 人不合常理，一个街道一年的招聘人数应不超过 {MOST} 人"),
        ));
    }
    s.store.set_recruitment(&p.access, code, year, n).await?;
    Ok(year)
}

async fn investment_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    axum::Form(f): axum::Form<wangge_domain::registry::Fields>,
) -> Result<Response, PageError> {
    let year = set_investment(&s, &p, &code, &f).await?;
    Ok(
        axum::response::Redirect::to(&format!("/budget/communities/{code}?year={year}&saved=1"))
            .into_response(),
    )
}

async fn recruitment_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    axum::Form(f): axum::Form<wangge_domain::registry::Fields>,
) -> Result<Response, PageError> {
    let year = set_recruitment(&s, &p, &code, &f).await?;
    Ok(
        axum::response::Redirect::to(&format!("/budget?year={year}&street={code}&saved=1"))
            .into_response(),
    )
}

/// A JSON object of scalars as text fields.
fn fields(v: &serde_json::Value) -> wangge_domain::registry::Fields {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    let t = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k.clone(), t)
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn api_investment(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    axum::Json(v): axum::Json<serde_json::Value>,
) -> Result<Response, ApiError> {
    let year = set_investment(&s, &p, &code, &fields(&v)).await?;
    Ok(axum::Json(serde_json::json!({"community": code, "year": year})).into_response())
}

async fn api_recruitment(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
    axum::Json(v): axum::Json<serde_json::Value>,
) -> Result<Response, ApiError> {
    let year = set_recruitment(&s, &p, &code, &fields(&v)).await?;
    Ok(axum::Json(serde_json::json!({"street": code, "year": year})).into_response())
}

/// Policies in force, shared by the handlers.
pub type Policies = Arc<Vec<Policy>>;
