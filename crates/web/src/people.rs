//! People: a grid's residents (masked), a resident's page, the deliberate reveal (with a
//! reason, audited), and search by ID number (in a form post, never in a URL).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json};
use serde::Deserialize;
use wangge_domain::access::Permission;
use wangge_domain::people::IdNumber;
use wangge_store::{AuditEntry, ResidentView, Revealed};

use crate::error::{ApiError, AppError, PageError};
use crate::pages::{Crumb, Me};
use crate::{Principal, SharedState};

pub(crate) fn routes() -> crate::Routes {
    crate::Routes::new()
        .route("/residents/{id}", &["GET"], get(resident_page))
        .route("/residents/{id}/reveal", &["POST"], post(reveal_page))
        .route(
            "/people/search",
            &["GET", "POST"],
            get(search_form).post(search_page),
        )
        .route(
            "/api/grids/{key}/residents",
            &["GET"],
            get(api_grid_residents),
        )
        .route("/api/residents/{id}", &["GET"], get(api_resident))
        .route("/api/residents/{id}/reveal", &["POST"], post(api_reveal))
        .route("/api/people/search", &["POST"], post(api_search))
        .route("/export/residents.csv", &["GET"], get(export_csv))
        .route(
            "/import/residents",
            &["GET", "POST"],
            get(import_form).post(import_upload),
        )
        .route("/api/import/residents", &["POST"], post(api_import))
        .route(
            "/import/residents/template.xlsx",
            &["GET"],
            get(import_template),
        )
}

fn crumbs(label: &str, href: String) -> Vec<Crumb> {
    vec![
        Crumb {
            label: "总览".into(),
            href: "/".into(),
        },
        Crumb {
            label: label.into(),
            href,
        },
    ]
}

#[derive(Template)]
#[template(path = "resident.html")]
struct ResidentPage {
    me: Me,
    crumbs: Vec<Crumb>,
    r: ResidentView,
    /// The grids (own, lived in) the user may open.
    open_grids: Vec<String>,
    can_reveal: bool,
    /// The user's reveal is on hold after a password reset (said, so the missing form is
    /// explained).
    reveal_held: bool,
    can_write: bool,
    revealed: Option<Revealed>,
    records: Vec<wangge_store::SpecialRecordView>,
    moves: Vec<wangge_store::MoveView>,
    /// Kinds the user may record for this person: (key, label).
    /// The kinds the user may register: (key, label, 重点人员 — needs a risk level).
    kinds: Vec<(&'static str, &'static str, bool)>,
    relations: Vec<&'static str>,
    ethnicities: Vec<&'static str>,
    political: Vec<&'static str>,
    employment: Vec<&'static str>,
    risks: Vec<(&'static str, &'static str)>,
    move_kinds: Vec<(&'static str, &'static str)>,
    today: String,
    /// (form, message): "reveal", "edit", "record", "move" or "follow:{record id}".
    error: Option<(String, String)>,
    values: wangge_domain::registry::Fields,
    /// What was just saved (`?saved=` after a form's redirect): the section and the words.
    saved: Option<(&'static str, &'static str)>,
}

/// The words for what a form of the resident's page saved, and the section they show in.
fn saved_note(what: &str) -> Option<(&'static str, &'static str)> {
    Some(match what {
        "follow" => ("records", "跟进已记录。"),
        "end" => ("records", "已解除列管（结束帮扶），记录保留为历史。"),
        "record" => ("records", "已登记。"),
        "move" => ("moves", "迁移已登记。"),
        "edit" => ("top", "基本信息已保存。"),
        _ => return None,
    })
}

impl ResidentPage {
    /// The groups of the kinds select that have kinds the user may register: care groups,
    /// then key persons (who need a risk level).
    fn kind_groups(&self) -> Vec<(&'static str, bool)> {
        [("关爱帮扶对象", false), ("重点人员（须填风险等级）", true)]
            .into_iter()
            .filter(|(_, key_person)| self.kinds.iter().any(|k| k.2 == *key_person))
            .collect()
    }

    fn saved_in(&self, section: &str) -> Option<&'static str> {
        self.saved
            .filter(|(s, _)| *s == section)
            .map(|(_, words)| words)
    }

    /// What was typed in `form` for `k`, when that form is the one answered with an error
    /// (the page has several forms, some with fields of the same name).
    fn typed(&self, form: &str, k: &str) -> String {
        match &self.error {
            Some((f, _)) if f == form => self.values.get(k).cloned().unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// A date field of `form`: what was typed, else today.
    fn day(&self, form: &str, k: &str) -> String {
        match self.typed(form, k) {
            t if t.is_empty() => self.today.clone(),
            t => t,
        }
    }

    /// The edit form's value: what was typed, else what is stored.
    fn current(&self, k: &str, stored: &Option<String>) -> String {
        match &self.error {
            Some((f, _)) if f == "edit" => self.values.get(k).cloned().unwrap_or_default(),
            _ => stored.clone().unwrap_or_default(),
        }
    }

    fn error_for(&self, form: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(f, _)| f == form)
            .map(|(_, m)| m.as_str())
    }
}

/// The resident's page, with an error next to the form it belongs to (422) or a reveal.
pub(crate) async fn resident_response(
    s: &SharedState,
    p: &Principal,
    id: &str,
    error: Option<(String, String)>,
    values: wangge_domain::registry::Fields,
) -> Result<Response, PageError> {
    resident_render(s, p, id, None, error, values, None).await
}

async fn resident_render(
    s: &SharedState,
    p: &Principal,
    id: &str,
    revealed: Option<Revealed>,
    error: Option<(String, String)>,
    values: wangge_domain::registry::Fields,
    saved: Option<&str>,
) -> Result<Response, PageError> {
    use wangge_domain::people::{
        EmploymentStatus, Ethnicity, MoveKind, PoliticalStatus, Relation, RiskLevel,
        SpecialGroupKind,
    };
    let r = s.store.resident(&p.access, id).await?;
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let mut res = crate::auth::render(&ResidentPage {
        me: Me::of(p),
        crumbs: crate::pages::readable_trail(
            p,
            vec![
                Crumb {
                    label: "总览".into(),
                    href: "/".into(),
                },
                Crumb {
                    label: format!("网格 {}", r.grid_code),
                    href: format!("/grids/{}", r.grid_code),
                },
                Crumb {
                    label: format!("户 {}", r.household),
                    // Someone who sees the person as living in his grid may not see the
                    // household of the register.
                    href: if p.access.can(Permission::PersonRead, &r.grid_code) {
                        format!("/households/{}", r.household_id)
                    } else {
                        String::new()
                    },
                },
                Crumb {
                    label: r.name.clone(),
                    href: String::new(),
                },
            ],
        ),
        can_reveal: r.can(&p.access, Permission::PersonReveal),
        reveal_held: p.reveal_held,
        can_write: p.access.can(Permission::PersonWrite, &r.grid_code),
        records: s.store.special_records(&p.access, id).await?,
        moves: s.store.moves(&p.access, id).await?,
        kinds: SpecialGroupKind::ALL
            .iter()
            .filter(|k| r.can(&p.access, k.sensitivity().permission()))
            .map(|k| (k.key(), k.label(), k.is_key_person()))
            .collect(),
        risks: RiskLevel::ALL
            .iter()
            .map(|k| (k.key(), k.label()))
            .collect(),
        relations: Relation::ALL.iter().map(|x| x.label()).collect(),
        ethnicities: Ethnicity::ALL.iter().map(|x| x.label()).collect(),
        political: PoliticalStatus::ALL.iter().map(|x| x.label()).collect(),
        employment: EmploymentStatus::ALL.iter().map(|x| x.label()).collect(),
        move_kinds: [
            MoveKind::MoveOut,
            MoveKind::Death,
            MoveKind::Transfer,
            MoveKind::MoveIn,
        ]
        .iter()
        .map(|k| (k.key(), k.label()))
        .collect(),
        today: wangge_store::today().to_string(),
        open_grids: std::iter::once(&r.grid_code)
            .chain(&r.living_grid_code)
            .filter(|g| p.access.can(Permission::RegistryRead, g))
            .cloned()
            .collect(),
        r,
        revealed,
        error,
        values,
        saved: saved.and_then(saved_note),
    });
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

async fn resident_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Result<Response, PageError> {
    resident_render(
        &s,
        &p,
        &id,
        None,
        None,
        Default::default(),
        q.saved.as_deref(),
    )
    .await
}

#[derive(Deserialize)]
pub struct RevealForm {
    #[serde(default)]
    reason: String,
}

/// Reveals, after a reason is given, and writes one audit row naming the person and the
/// reason — never the numbers.
async fn reveal(
    s: &SharedState,
    p: &Principal,
    id: &str,
    reason: &str,
) -> Result<Revealed, AppError> {
    // A person the user may not read, or whose numbers he may not reveal, is refused before
    // the reason is looked at, and that refusal is audited.
    let refused = match s.store.resident(&p.access, id).await {
        Ok(v) if v.can(&p.access, Permission::PersonReveal) => None,
        Ok(_) => Some(AppError::Forbidden("无权查看完整证件号和电话".into())),
        Err(e) => Some(AppError::from(e)),
    };
    if let Some(e) = refused {
        let reason: String = reason.trim().chars().take(100).collect();
        audit_reveal(s, p, id, &reason, false).await?;
        return Err(e);
    }
    let reason = reason.trim();
    if reason.chars().count() < 2 {
        let mut f = wangge_domain::registry::FieldErrors::new();
        f.insert("reason".into(), "请说明查看完整号码的理由".into());
        return Err(AppError::Invalid(f));
    }
    let reason: String = reason.chars().take(100).collect();
    let result = s.store.reveal(&p.access, id).await;
    audit_reveal(s, p, id, &reason, result.is_ok()).await?;
    Ok(result?)
}

/// The audit row of a reveal, granted or refused (reveals are not in the request audit).
async fn audit_reveal(
    s: &SharedState,
    p: &Principal,
    id: &str,
    reason: &str,
    ok: bool,
) -> Result<(), AppError> {
    let entry = AuditEntry {
        user: p.username.clone(),
        roles: p.roles(),
        action: "reveal".into(),
        object: format!("resident:{id} 理由：{reason}"),
        client: p.client.clone(),
        result: if ok { "ok" } else { "denied" }.into(),
    };
    s.store.audit(&entry).await?;
    Ok(())
}

async fn reveal_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<RevealForm>,
) -> Result<Response, PageError> {
    match reveal(&s, &p, &id, &f.reason).await {
        Ok(v) => resident_render(&s, &p, &id, Some(v), None, Default::default(), None).await,
        Err(AppError::Invalid(e)) => {
            let msg = e.values().next().cloned().unwrap_or_default();
            resident_response(
                &s,
                &p,
                &id,
                Some(("reveal".into(), msg)),
                Default::default(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "people_search.html")]
struct SearchPage {
    me: Me,
    crumbs: Vec<Crumb>,
    results: Option<Vec<ResidentView>>,
    error: Option<String>,
    /// What was asked, shown again in its field.
    name: String,
}

async fn search_form(Extension(p): Extension<Principal>) -> Result<Response, PageError> {
    Ok(crate::auth::render(&SearchPage {
        me: Me::of(&p),
        crumbs: crumbs("查找居民", "/people/search".into()),
        results: None,
        error: None,
        name: String::new(),
    }))
}

#[derive(Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    id_number: String,
    /// A name (or part of one), or a household number.
    #[serde(default)]
    name: String,
}

async fn search(
    s: &SharedState,
    p: &Principal,
    id_number: &str,
    name: &str,
) -> Result<Vec<ResidentView>, AppError> {
    if !p.access.can_somewhere(Permission::PersonRead) {
        return Err(AppError::Forbidden("无权查找人员".into()));
    }
    let name = name.trim();
    if id_number.trim().is_empty() && !name.is_empty() {
        if name.chars().count() > 30 {
            let mut f = wangge_domain::registry::FieldErrors::new();
            f.insert("name".into(), "姓名或户号不能超过 30 个字".into());
            return Err(AppError::Invalid(f));
        }
        return Ok(s.store.find_by_name(&p.access, name).await?);
    }
    let id = IdNumber::parse(id_number).map_err(|e| {
        let mut f = wangge_domain::registry::FieldErrors::new();
        f.insert("id_number".into(), e.to_string());
        AppError::Invalid(f)
    })?;
    Ok(s.store
        .find_by_id_number(&p.access, &p.username, &id)
        .await?)
}

async fn search_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Form(f): Form<SearchForm>,
) -> Result<Response, PageError> {
    let (results, error) = match search(&s, &p, &f.id_number, &f.name).await {
        Ok(v) => (Some(v), None),
        Err(AppError::Invalid(e)) => (None, e.values().next().cloned()),
        Err(e) => return Err(e.into()),
    };
    Ok(crate::auth::render(&SearchPage {
        me: Me::of(&p),
        crumbs: crumbs("查找居民", "/people/search".into()),
        results,
        error,
        name: f.name.trim().to_string(),
    }))
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    pub page: usize,
}

async fn api_grid_residents(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(key): Path<String>,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Result<Response, ApiError> {
    let residents = s.store.grid_residents(&p.access, &key, q.page).await?;
    let counts = s.store.people_stats(&p.access, &key).await?.total;
    Ok(Json(serde_json::json!({
        "counts": counts,
        "page": q.page,
        "page_size": wangge_store::Store::PAGE,
        "residents": residents
    }))
    .into_response())
}

async fn api_resident(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.store.resident(&p.access, &id).await?).into_response())
}

async fn api_reveal(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(f): Json<serde_json::Value>,
) -> Result<Response, ApiError> {
    let v = reveal(&s, &p, &id, f["reason"].as_str().unwrap_or("")).await?;
    Ok(Json(v).into_response())
}

async fn api_search(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Json(f): Json<serde_json::Value>,
) -> Result<Response, ApiError> {
    let text = |k: &str| f[k].as_str().unwrap_or("").to_string();
    Ok(Json(search(&s, &p, &text("id_number"), &text("name")).await?).into_response())
}

/// Residents from the synthetic generator as import rows (for the demo and the benchmark).
pub fn synth_rows(
    seed: u64,
    residents: usize,
    grids: &[String],
    as_of: wangge_domain::Date,
) -> Vec<wangge_domain::people::import::ResidentRow> {
    let mut out = Vec::with_capacity(residents);
    for h in wangge_domain::people::synth::residents(seed, residents, grids, as_of) {
        for m in h.members {
            out.push(wangge_domain::people::import::ResidentRow {
                sheet: 0,
                row: out.len() + 2,
                household: h.number.clone(),
                household_kind: h.kind,
                relation: Some(m.relation),
                name: m.name,
                id_number: m.id_number,
                ethnicity: Some(m.ethnicity),
                political_status: Some(m.political_status),
                employment: Some(m.employment),
                phone: m.phone,
                grid: Some(h.grid_code.clone()),
                compound: None,
                building: None,
                address: Some(h.address.clone()),
                residing_household: None,
                moved_in: Some(m.moved_in),
            });
        }
    }
    out
}

/// Gives the demo county a few generated residents per urban and rural grid (valid ID
/// numbers under 370725, synthetic phones), enough for the grid pages to mean something.
pub async fn load_demo_residents(
    store: &wangge_store::Store,
    per_grid: usize,
) -> Result<usize, String> {
    use wangge_domain::access::{Access, Grant, Role, Scope, ScopeKind, default_permissions};
    let county = store
        .county()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("没有县")?;
    let a = Access::new(
        vec![Grant::new(
            Role::CountyAdmin,
            Scope::parse(ScopeKind::County, &county.code)?,
        )?],
        &default_permissions(),
    );
    let o = store.overview(&a).await.map_err(|e| e.to_string())?;
    let mut grids = Vec::new();
    for st in &o.streets {
        for c in &st.communities {
            let page = store
                .community_page(&a, &c.code)
                .await
                .map_err(|e| e.to_string())?;
            grids.extend(page.grids.into_iter().map(|g| g.code));
        }
    }
    let rows = synth_rows(2020, per_grid * grids.len(), &grids, wangge_store::today());
    let n = match store
        .import_residents(&a, "demo", &rows, &|_, _| {})
        .await
        .map_err(|e| e.to_string())?
    {
        Ok(n) => n,
        Err(errors) => return Err(format!("演示居民导入失败：{}", errors[0].2)),
    };
    crate::care::load_demo_care(store, &county.code, &grids).await?;
    Ok(n)
}

#[derive(Deserialize)]
pub struct ExportQuery {
    grid: Option<String>,
}

/// The residents the user may see, masked, as CSV (UTF-8 with BOM): a grid worker's export
/// holds his grid only.
async fn export_csv(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    axum::extract::Query(q): axum::extract::Query<ExportQuery>,
) -> Result<Response, PageError> {
    if !p.access.can_somewhere(Permission::PersonRead) {
        return Err(AppError::Forbidden("无权导出人员信息".into()).into());
    }
    let rows = s
        .store
        .export_residents(&p.access, q.grid.as_deref().filter(|g| !g.is_empty()))
        .await?;
    let table = residents_table(rows);
    let bytes =
        wangge_sheets::write_csv(&table, false).map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                axum::http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"residents.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Residents as an export table (masked), header first.
pub fn residents_table(rows: Vec<ResidentView>) -> Vec<Vec<String>> {
    let header = [
        "网格编码",
        "户号",
        "户类型",
        "姓名",
        "性别",
        "出生日期",
        "公民身份号码",
        "联系电话",
        "与户主关系",
        "民族",
        "政治面貌",
    ];
    let mut table = vec![header.iter().map(|x| x.to_string()).collect::<Vec<_>>()];
    for r in rows {
        table.push(vec![
            r.grid_code,
            r.household,
            r.household_kind,
            r.name,
            r.sex,
            r.birth_date,
            r.id_number_masked,
            r.phone_masked.unwrap_or_default(),
            r.relation.unwrap_or_default(),
            r.ethnicity.unwrap_or_default(),
            r.political_status.unwrap_or_default(),
        ]);
    }
    table
}

// ---- bulk import of households and residents ----------------------------------------------

/// Reads a residents table and imports it, all or nothing; errors by sheet, row and column.
pub async fn import_residents_bytes(
    store: &wangge_store::Store,
    a: &wangge_domain::access::Access,
    user: &str,
    file: &str,
    bytes: &[u8],
) -> Result<usize, AppError> {
    if !a.can_somewhere(Permission::PersonWrite) {
        return Err(AppError::Forbidden("无权登记居民".into()));
    }
    if bytes.is_empty() {
        return Err(AppError::BadRequest("请选择要导入的文件".into()));
    }
    let sheets =
        wangge_sheets::read(file, bytes).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let rows = wangge_domain::people::import::read(&sheets, wangge_store::today())
        .map_err(AppError::Cells)?;
    match store.import_residents(a, user, &rows, &|_, _| {}).await? {
        Ok(n) => Ok(n),
        Err(errors) => Err(AppError::Cells(
            errors
                .into_iter()
                .map(|(i, column, msg)| {
                    let col = wangge_domain::people::import::Column::ALL
                        .iter()
                        .copied()
                        .find(|c| c.header() == column);
                    wangge_domain::people::import::cell_error(&sheets, &rows[i], col, msg)
                })
                .collect(),
        )),
    }
}

#[derive(Template)]
#[template(path = "import_residents.html")]
struct ImportPage {
    me: Me,
    crumbs: Vec<Crumb>,
    file: String,
    imported: Option<usize>,
    errors: Vec<wangge_domain::annex2::CellError>,
    problem: Option<String>,
    columns: Vec<&'static str>,
}

fn import_page(p: &Principal) -> ImportPage {
    ImportPage {
        me: Me::of(p),
        crumbs: crumbs("导入居民", "/import/residents".into()),
        file: String::new(),
        imported: None,
        errors: Vec::new(),
        problem: None,
        columns: wangge_domain::people::import::Column::ALL
            .iter()
            .map(|c| c.header())
            .collect(),
    }
}

async fn import_form(Extension(p): Extension<Principal>) -> Result<Response, PageError> {
    if !p.access.can_somewhere(Permission::PersonWrite) {
        return Err(AppError::Forbidden("无权登记居民".into()).into());
    }
    Ok(crate::auth::render(&import_page(&p)))
}

/// The workbook to fill in for an import: the columns as the reader takes them (required
/// ones marked `*`), formatted as text, and a sheet saying how each is filled in.
async fn import_template(Extension(p): Extension<Principal>) -> Result<Response, PageError> {
    if !p.access.can_somewhere(Permission::PersonWrite) {
        return Err(AppError::Forbidden("无权登记居民".into()).into());
    }
    let (header, notes) = wangge_domain::people::import::template();
    let bytes = wangge_sheets::fill_in_xlsx("居民信息", &header, "填写说明", &notes)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok(crate::pages::download_as(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "居民信息导入模板.xlsx",
        "residents-template",
    ))
}

async fn import_upload(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    mut mp: axum::extract::Multipart,
) -> Result<Response, PageError> {
    if !p.access.can_somewhere(Permission::PersonWrite) {
        return Err(AppError::Forbidden("无权登记居民".into()).into());
    }
    let mut view = import_page(&p);
    let (file, bytes) = crate::pages::uploaded_file(&mut mp).await?;
    view.file = file;
    let result = import_residents_bytes(&s.store, &p.access, &p.username, &view.file, &bytes).await;
    let (status, imported) =
        crate::pages::upload_answer(result, &mut view.errors, &mut view.problem)?;
    view.imported = imported;
    let mut res = crate::auth::render(&view);
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Deserialize)]
pub struct ImportQuery {
    filename: Option<String>,
}

async fn api_import(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    axum::extract::Query(q): axum::extract::Query<ImportQuery>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let file = q.filename.unwrap_or_else(|| "上传文件.csv".into());
    let n = import_residents_bytes(&s.store, &p.access, &p.username, &file, &body).await?;
    Ok(Json(serde_json::json!({ "imported": n })).into_response())
}
