//! Grid workers' pages: a household with its members and visits, the phone-sized visit form,
//! special-group records and their follow-ups, moves, and people statistics of any place.
//! Every page has its JSON twin under `/api/`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json};
use serde::Deserialize;
use serde_json::Value;
use wangge_domain::access::Permission;
use wangge_domain::people::stats::{AgeBand, PeopleStats};
use wangge_domain::people::{
    EmploymentStatus, EndRecordInput, Ethnicity, FollowUpInput, HouseholdInput, MoveInput,
    MoveKind, PoliticalStatus, Relation, ResidentEditInput, ResidentInput, SpecialGroupKind,
    SpecialRecordInput, VisitInput,
};
use wangge_domain::registry::{FieldErrors, Fields};
use wangge_store::{HouseholdView, PeopleBreakdown, PlaceChoice, SpecialRecordView};

use crate::error::{ApiError, AppError, PageError};
use crate::pages::{Crumb, Me};
use crate::{Principal, SharedState};

pub(crate) fn routes() -> crate::Routes {
    crate::Routes::new()
        .route("/households/{id}", &["GET"], get(household_page))
        .route(
            "/compounds/{id}/households",
            &["POST"],
            post(household_post),
        )
        .route(
            "/api/compounds/{id}/households",
            &["GET", "POST"],
            get(api_compound_households).post(api_household_post),
        )
        .route("/households/{id}/place", &["POST"], post(place_post))
        .route("/households/{id}/close", &["POST"], post(close_post))
        .route("/api/households/{id}/close", &["POST"], post(api_close))
        .route(
            "/api/households/{id}/place",
            &["PUT"],
            axum::routing::put(api_place),
        )
        .route("/households/{id}/visit", &["GET"], get(visit_form))
        .route("/households/{id}/visits", &["POST"], post(visit_post))
        .route("/households/{id}/residents", &["POST"], post(member_post))
        .route(
            "/residents/{id}/special-records",
            &["POST"],
            post(record_post),
        )
        .route(
            "/special-records/{id}/follow-ups",
            &["POST"],
            post(follow_up_post),
        )
        .route("/special-records/{id}/end", &["POST"], post(end_post))
        .route("/residents/{id}/moves", &["POST"], post(move_post))
        .route("/residents/{id}/edit", &["POST"], post(edit_post))
        .route("/api/households/{id}", &["GET"], get(api_household))
        .route(
            "/api/residents/{id}/basic",
            &["PUT"],
            axum::routing::put(api_edit),
        )
        .route("/api/households/{id}/visits", &["POST"], post(api_visit))
        .route(
            "/api/households/{id}/residents",
            &["POST"],
            post(api_member),
        )
        .route(
            "/api/residents/{id}/special-records",
            &["GET", "POST"],
            get(api_records).post(api_record_post),
        )
        .route(
            "/api/special-records/{id}/follow-ups",
            &["POST"],
            post(api_follow_up),
        )
        .route(
            "/api/special-records/{id}/end",
            &["POST"],
            post(api_end_record),
        )
        .route(
            "/api/residents/{id}/moves",
            &["GET", "POST"],
            get(api_moves).post(api_move_post),
        )
        .route(
            "/api/grids/{key}/special-records",
            &["GET"],
            get(api_grid_records),
        )
        .route("/api/grids/{key}/visits", &["GET"], get(api_grid_visits))
        .route("/api/people/stats/{code}", &["GET"], get(api_stats))
}

fn today() -> wangge_domain::Date {
    wangge_store::today()
}

fn first_error(e: &FieldErrors) -> String {
    crate::error::describe_with(e, person_label)
}

/// The people forms' own readings of fields named alike elsewhere.
fn person_label(k: &str) -> &str {
    match k {
        "name" => "姓名",
        "household" => "迁入户户号",
        "place" => "迁往（来自）",
        "number" => "户号",
        "address" => "门牌",
        other => crate::error::field_label(other),
    }
}

fn crumbs_for_grid(grid: &str, last: (String, String)) -> Vec<Crumb> {
    vec![
        Crumb {
            label: "总览".into(),
            href: "/".into(),
        },
        Crumb {
            label: format!("网格 {grid}"),
            href: format!("/grids/{grid}"),
        },
        Crumb {
            label: last.0,
            href: last.1,
        },
    ]
}

// ---- households and visits ----------------------------------------------------------------

async fn add_household(
    s: &SharedState,
    p: &Principal,
    compound: &str,
    mut f: Fields,
) -> Result<String, AppError> {
    f.insert("compound".into(), compound.to_string());
    let input = HouseholdInput::parse(&f).map_err(AppError::Invalid)?;
    Ok(s.store.add_household(&p.access, compound, &input).await?)
}

async fn household_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    match add_household(&s, &p, &id, f).await {
        Ok(h) => Ok(Redirect::to(&format!("/households/{h}")).into_response()),
        Err(AppError::Invalid(e)) => {
            Ok(crate::pages::compound_view(&s, &p, &id, Some(first_error(&e))).await?)
        }
        Err(e) => Err(e.into()),
    }
}

async fn api_compound_households(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.store.compound_households(&p.access, &id).await?).into_response())
}

async fn api_household_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(v): Json<Value>,
) -> Result<Response, ApiError> {
    let f = body_fields(&v)?;
    Ok(created(add_household(&s, &p, &id, f).await?))
}

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    me: Me,
    crumbs: Vec<Crumb>,
    h: HouseholdView,
    can_write: bool,
    can_visit: bool,
    registered: bool,
    relations: Vec<&'static str>,
    ethnicities: Vec<&'static str>,
    political: Vec<&'static str>,
    employment: Vec<&'static str>,
    error: Option<String>,
    values: Fields,
    /// Compounds the household can be put in (empty: the user may not).
    places: Vec<PlaceChoice>,
    place_error: Option<String>,
}

impl HouseholdPage {
    fn value(&self, k: &str) -> String {
        self.values.get(k).cloned().unwrap_or_default()
    }
}

async fn household_response(
    s: &SharedState,
    p: &Principal,
    id: &str,
    error: Option<String>,
    values: Fields,
) -> Result<Response, PageError> {
    household_response_with(s, p, id, error, values, None).await
}

async fn household_response_with(
    s: &SharedState,
    p: &Principal,
    id: &str,
    error: Option<String>,
    values: Fields,
    place_error: Option<String>,
) -> Result<Response, PageError> {
    let h = s.store.household(&p.access, id).await?;
    let places = s.store.household_place_choices(&p.access, id).await?;
    let status = if error.is_some() || place_error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let mut res = crate::auth::render(&HouseholdPage {
        me: Me::of(p),
        crumbs: crumbs_for_grid(
            &h.grid_code,
            (format!("户 {}", h.number), format!("/households/{id}")),
        ),
        can_write: p.access.can(Permission::PersonWrite, &h.grid_code),
        can_visit: p.access.can(Permission::VisitWrite, &h.grid_code),
        registered: h.kind == wangge_domain::people::HouseholdKind::Registered.label(),
        relations: Relation::ALL.iter().map(|r| r.label()).collect(),
        ethnicities: Ethnicity::ALL.iter().map(|r| r.label()).collect(),
        political: PoliticalStatus::ALL.iter().map(|r| r.label()).collect(),
        employment: EmploymentStatus::ALL.iter().map(|r| r.label()).collect(),
        h,
        error,
        values,
        places,
        place_error,
    });
    *res.status_mut() = status;
    Ok(res)
}

/// Puts the household in a compound (form: `compound`, `address`; API also `building`).
async fn place(s: &SharedState, p: &Principal, id: &str, f: &Fields) -> Result<String, AppError> {
    let field = |k: &str| f.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let Some(compound) = field("compound") else {
        return Err(AppError::Invalid(FieldErrors::from([(
            "compound".to_string(),
            "请选择小区".to_string(),
        )])));
    };
    Ok(s.store
        .place_household(
            &p.access,
            id,
            compound,
            field("building"),
            f.get("address").map(String::as_str),
        )
        .await?)
}

async fn close_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    s.store.close_household(&p.access, &id).await?;
    Ok(Redirect::to(&format!("/households/{id}")).into_response())
}

async fn api_close(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    s.store.close_household(&p.access, &id).await?;
    Ok(Json(s.store.household(&p.access, &id).await?).into_response())
}

async fn place_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    match place(&s, &p, &id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/households/{id}")).into_response()),
        Err(AppError::Invalid(e)) => {
            household_response_with(&s, &p, &id, None, Fields::new(), Some(first_error(&e))).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn api_place(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    axum::Json(v): axum::Json<Value>,
) -> Result<Response, ApiError> {
    let f = body_fields(&v)?;
    place(&s, &p, &id, &f).await?;
    Ok(axum::Json(s.store.household(&p.access, &id).await?).into_response())
}

async fn household_page(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    household_response(&s, &p, &id, None, Fields::new()).await
}

/// A new member: the household's own reference goes in as the registered or residing
/// household, by its kind.
async fn add_member(
    s: &SharedState,
    p: &Principal,
    id: &str,
    mut f: Fields,
) -> Result<String, AppError> {
    let h = s.store.household(&p.access, id).await?;
    if h.kind == wangge_domain::people::HouseholdKind::Registered.label() {
        f.insert("registered_household".into(), id.to_string());
    } else {
        f.insert("residing_household".into(), id.to_string());
    }
    let how = match f.get("kind").map(|k| k.trim()).unwrap_or("") {
        "" => MoveKind::MoveIn,
        k => MoveKind::parse(k).map_err(|e| {
            let mut m = FieldErrors::new();
            m.insert("kind".into(), e.to_string());
            AppError::Invalid(m)
        })?,
    };
    let input = ResidentInput::parse(&f, today()).map_err(AppError::Invalid)?;
    Ok(s.store
        .add_resident(&p.access, &p.username, id, &input, how)
        .await?)
}

async fn member_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    match add_member(&s, &p, &id, f.clone()).await {
        Ok(r) => Ok(Redirect::to(&format!("/residents/{r}")).into_response()),
        Err(AppError::Invalid(e)) => {
            household_response(&s, &p, &id, Some(first_error(&e)), f).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "visit.html")]
struct VisitPage {
    me: Me,
    crumbs: Vec<Crumb>,
    h: HouseholdView,
    records: Vec<SpecialRecordView>,
    today: String,
    saved: bool,
    error: Option<String>,
    values: Fields,
}

impl VisitPage {
    fn value(&self, k: &str) -> String {
        self.values.get(k).cloned().unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

async fn visit_response(
    s: &SharedState,
    p: &Principal,
    id: &str,
    saved: bool,
    error: Option<String>,
    values: Fields,
) -> Result<Response, PageError> {
    let h = s.store.household(&p.access, id).await?;
    if !p.access.can(Permission::VisitWrite, &h.grid_code) {
        return Err(AppError::Forbidden("无权记录该户的走访".into()).into());
    }
    let mut records = Vec::new();
    for m in &h.members {
        records.extend(
            s.store
                .special_records(&p.access, &m.id)
                .await?
                .into_iter()
                .filter(|r| r.until.is_none()),
        );
    }
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let mut res = crate::auth::render(&VisitPage {
        me: Me::of(p),
        crumbs: crumbs_for_grid(
            &h.grid_code,
            (
                format!("走访 {}", h.number),
                format!("/households/{id}/visit"),
            ),
        ),
        h,
        records,
        today: today().to_string(),
        saved,
        error,
        values,
    });
    *res.status_mut() = status;
    Ok(res)
}

async fn visit_form(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    visit_response(&s, &p, &id, q.saved.is_some(), None, Fields::new()).await
}

async fn add_visit(
    s: &SharedState,
    p: &Principal,
    id: &str,
    f: &Fields,
) -> Result<String, AppError> {
    let input = VisitInput::parse(f, today()).map_err(AppError::Invalid)?;
    Ok(s.store
        .add_visit(&p.access, &p.username, id, &input)
        .await?)
}

async fn visit_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    match add_visit(&s, &p, &id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/households/{id}/visit?saved=1")).into_response()),
        Err(AppError::Invalid(e)) => {
            visit_response(&s, &p, &id, false, Some(first_error(&e)), f).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---- special-group records, follow-ups, moves (forms on the resident's page) -------------

async fn add_record(
    s: &SharedState,
    p: &Principal,
    id: &str,
    f: &Fields,
) -> Result<String, AppError> {
    let input = SpecialRecordInput::parse(f, today()).map_err(AppError::Invalid)?;
    Ok(s.store
        .add_special_record(&p.access, &p.username, id, &input)
        .await?)
}

async fn record_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    match add_record(&s, &p, &id, &f).await {
        Ok(_) => Ok(Redirect::to(&format!("/residents/{id}?saved=record#records")).into_response()),
        Err(AppError::Invalid(e)) => {
            crate::people::resident_response(
                &s,
                &p,
                &id,
                Some(("record".into(), first_error(&e))),
                f,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn add_follow_up(
    s: &SharedState,
    p: &Principal,
    id: &str,
    f: &Fields,
) -> Result<String, AppError> {
    let input = FollowUpInput::parse(f, today()).map_err(AppError::Invalid)?;
    Ok(s.store
        .add_follow_up(&p.access, &p.username, id, &input)
        .await?)
}

async fn end_record(
    s: &SharedState,
    p: &Principal,
    id: &str,
    f: &Fields,
) -> Result<String, AppError> {
    let input = EndRecordInput::parse(f, today()).map_err(AppError::Invalid)?;
    Ok(s.store
        .end_special_record(&p.access, &p.username, id, &input)
        .await?)
}

async fn end_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let done = end_record(&s, &p, &id, &f).await;
    record_form_answer(&s, &p, &id, "end", done, f).await
}

async fn follow_up_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    let done = add_follow_up(&s, &p, &id, &f).await;
    record_form_answer(&s, &p, &id, "follow", done, f).await
}

/// The answer to a form on a record of the resident's page: back to the records, or the page
/// again with the error beside the record's form (`form:{record id}`) and what was typed.
async fn record_form_answer(
    s: &SharedState,
    p: &Principal,
    id: &str,
    form: &str,
    done: Result<String, AppError>,
    f: Fields,
) -> Result<Response, PageError> {
    match done {
        Ok(resident) => Ok(
            Redirect::to(&format!("/residents/{resident}?saved={form}#records")).into_response(),
        ),
        Err(AppError::Invalid(e)) => {
            let resident = s.store.special_record_resident(&p.access, id).await?;
            crate::people::resident_response(
                s,
                p,
                &resident,
                Some((format!("{form}:{id}"), first_error(&e))),
                f,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn record_move(s: &SharedState, p: &Principal, id: &str, f: &Fields) -> Result<(), AppError> {
    let input = MoveInput::parse(f, today()).map_err(AppError::Invalid)?;
    Ok(s.store
        .record_move(
            &p.access,
            &p.username,
            id,
            &input,
            f.get("household").map(String::as_str),
        )
        .await?)
}

async fn move_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    match record_move(&s, &p, &id, &f).await {
        Ok(()) => Ok(Redirect::to(&format!("/residents/{id}?saved=move#moves")).into_response()),
        Err(AppError::Invalid(e)) => {
            crate::people::resident_response(&s, &p, &id, Some(("move".into(), first_error(&e))), f)
                .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn edit_resident(
    s: &SharedState,
    p: &Principal,
    id: &str,
    f: &Fields,
) -> Result<(), AppError> {
    let input = ResidentEditInput::parse(f).map_err(AppError::Invalid)?;
    Ok(s.store.edit_resident(&p.access, id, &input).await?)
}

async fn edit_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Form(f): Form<Fields>,
) -> Result<Response, PageError> {
    match edit_resident(&s, &p, &id, &f).await {
        Ok(()) => Ok(Redirect::to(&format!("/residents/{id}?saved=edit")).into_response()),
        Err(AppError::Invalid(e)) => {
            crate::people::resident_response(&s, &p, &id, Some(("edit".into(), first_error(&e))), f)
                .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn api_edit(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(v): Json<Value>,
) -> Result<Response, ApiError> {
    let mut f = body_fields(&v)?;
    // Fields left out keep their values (a PUT of the name alone changes the name); the
    // phone left out is unchanged anyway.
    only_fields(&f, ResidentEditInput::FIELDS, "居民基本信息")?;
    let now = s.store.resident(&p.access, &id).await?;
    for (k, v) in [
        ("name", Some(now.name)),
        ("ethnicity", now.ethnicity),
        ("political_status", now.political_status),
        ("employment", now.employment),
        ("relation", now.relation),
    ] {
        if let Some(v) = v {
            f.entry(k.to_string()).or_insert(v);
        }
    }
    edit_resident(&s, &p, &id, &f).await?;
    Ok(Json(s.store.resident(&p.access, &id).await?).into_response())
}

// ---- statistics sections of the place pages ------------------------------------------------

/// A row of the people table on a place page.
pub struct StatRow {
    pub name: String,
    pub href: String,
    pub s: PeopleStats,
    /// Open special-group records the user may see.
    pub special: i64,
}

/// The people section of the overview, street, community and grid pages.
pub struct PeopleSection {
    pub total: PeopleStats,
    pub rows: Vec<StatRow>,
    pub bands: Vec<(&'static str, i64)>,
    /// Visible kinds with their counts.
    pub kinds: Vec<(&'static str, i64)>,
    pub shows_special: bool,
}

impl PeopleSection {
    /// `names` maps part codes to (name, link).
    pub fn of(b: PeopleBreakdown, names: &[(String, String, String)]) -> PeopleSection {
        let visible: Vec<SpecialGroupKind> = b
            .visible_kinds
            .iter()
            .filter_map(|k| SpecialGroupKind::parse(k).ok())
            .collect();
        let special = |s: &PeopleStats| visible.iter().map(|k| s.special_groups[k.index()]).sum();
        let rows = names
            .iter()
            .map(|(code, name, href)| {
                let s = b
                    .parts
                    .iter()
                    .find(|(c, _)| c == code)
                    .map(|(_, s)| s.clone())
                    .unwrap_or_default();
                StatRow {
                    name: name.clone(),
                    href: href.clone(),
                    special: special(&s),
                    s,
                }
            })
            .collect();
        PeopleSection {
            bands: AgeBand::ALL
                .iter()
                .map(|a| (a.label(), b.total.age_bands[a.index()]))
                .collect(),
            kinds: visible
                .iter()
                .map(|k| (k.label(), b.total.special_groups[k.index()]))
                .collect(),
            shows_special: !visible.is_empty(),
            total: b.total,
            rows,
        }
    }

    /// The section for a page, if the user may read people there.
    pub async fn load(
        s: &SharedState,
        p: &Principal,
        code: &str,
        names: &[(String, String, String)],
    ) -> Result<Option<PeopleSection>, AppError> {
        if !p.access.can(Permission::PersonRead, code) {
            return Ok(None);
        }
        let b = s.store.people_stats(&p.access, code).await?;
        Ok(Some(PeopleSection::of(b, names)))
    }
}

// ---- API ---------------------------------------------------------------------------------

fn body_fields(v: &Value) -> Result<Fields, ApiError> {
    crate::api::fields_of(v)
}

fn created(id: String) -> Response {
    (
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({ "id": id })),
    )
        .into_response()
}

async fn api_household(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.store.household(&p.access, &id).await?).into_response())
}

async fn api_visit(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(v): Json<Value>,
) -> Result<Response, ApiError> {
    let f = body_fields(&v)?;
    Ok(created(add_visit(&s, &p, &id, &f).await?))
}

async fn api_member(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(v): Json<Value>,
) -> Result<Response, ApiError> {
    let f = body_fields(&v)?;
    // `kind`: moving in or born.
    let known: Vec<&str> = std::iter::once("kind")
        .chain(ResidentInput::FIELDS.iter().copied())
        .collect();
    only_fields(&f, &known, "新成员登记")?;
    Ok(created(add_member(&s, &p, &id, f).await?))
}

/// Refuses a body with a key the request does not take (a misspelt `moved_in` would
/// otherwise be dropped silently), naming the ones it takes.
fn only_fields(f: &Fields, known: &[&str], what: &str) -> Result<(), AppError> {
    match f.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(AppError::BadRequest(format!(
            "{what}没有字段“{k}”，可填的是：{}",
            known.join("、")
        ))),
        None => Ok(()),
    }
}

async fn api_records(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.store.special_records(&p.access, &id).await?).into_response())
}

async fn api_record_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(v): Json<Value>,
) -> Result<Response, ApiError> {
    let f = body_fields(&v)?;
    Ok(created(add_record(&s, &p, &id, &f).await?))
}

async fn api_follow_up(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(v): Json<Value>,
) -> Result<Response, ApiError> {
    let f = body_fields(&v)?;
    let resident = add_follow_up(&s, &p, &id, &f).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(serde_json::json!({ "resident_id": resident })),
    )
        .into_response())
}

async fn api_end_record(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(v): Json<Value>,
) -> Result<Response, ApiError> {
    let f = body_fields(&v)?;
    let resident = end_record(&s, &p, &id, &f).await?;
    Ok(Json(serde_json::json!({ "resident_id": resident })).into_response())
}

async fn api_moves(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.store.moves(&p.access, &id).await?).into_response())
}

async fn api_move_post(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    Json(v): Json<Value>,
) -> Result<Response, ApiError> {
    let f = body_fields(&v)?;
    record_move(&s, &p, &id, &f).await?;
    Ok(Json(s.store.moves(&p.access, &id).await?).into_response())
}

async fn api_grid_records(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.store.grid_special_records(&p.access, &key).await?).into_response())
}

async fn api_grid_visits(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.store.grid_visits(&p.access, &key, 200).await?).into_response())
}

async fn api_stats(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.store.people_stats(&p.access, &code).await?).into_response())
}

/// Gives the demo county's grids a few special-group records (care groups in most grids, a
/// key person in every fifth), their follow-ups, and visits this month, so the grid,
/// community and overview pages show them. Deterministic: picked by position.
pub async fn load_demo_care(
    store: &wangge_store::Store,
    county: &str,
    grids: &[String],
) -> Result<(), String> {
    use wangge_domain::access::{Access, Grant, Role, Scope, ScopeKind};
    let everything: Vec<(Role, Permission)> = Permission::ALL
        .iter()
        .map(|p| (Role::CountyAdmin, *p))
        .collect();
    let a = Access::new(
        vec![Grant::new(
            Role::CountyAdmin,
            Scope::parse(ScopeKind::County, county)?,
        )?],
        &everything,
    );
    let err = |e: wangge_store::StoreError| match e {
        wangge_store::StoreError::Invalid(f) => first_error(&f),
        e => e.to_string(),
    };
    let day = today();
    let fields = |pairs: &[(&str, String)]| -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    };
    let who = "网格员（演示）";
    for (i, grid) in grids.iter().enumerate() {
        let people = store.grid_residents(&a, grid, 0).await.map_err(err)?;
        if people.is_empty() {
            continue;
        }
        // A care group: the oldest person (独居老人 past 70, else 低保对象).
        let oldest = people.iter().max_by_key(|r| r.age).expect("not empty");
        let kind = if oldest.age >= 70 {
            "独居老人"
        } else {
            "低保对象"
        };
        let input = SpecialRecordInput::parse(
            &fields(&[
                ("kind", kind.into()),
                ("helper", "社区网格员".into()),
                ("difficulties", "行动不便，子女在外地".into()),
                ("requests", "定期上门看望，代办医保报销".into()),
            ]),
            day,
        )
        .map_err(|e| first_error(&e))?;
        let record = store
            .add_special_record(&a, who, &oldest.id, &input)
            .await
            .map_err(err)?;
        // A visit this month that also follows the record up.
        let visit = VisitInput::parse(
            &fields(&[
                ("met", oldest.name.clone()),
                ("findings", "身体状况稳定，家中用电用气安全".into()),
                ("follow_up", "下月陪同体检".into()),
                ("special_record", record),
            ]),
            day,
        )
        .map_err(|e| first_error(&e))?;
        store
            .add_visit(&a, who, &oldest.household_id, &visit)
            .await
            .map_err(err)?;
        // A plain visit to another household.
        if let Some(other) = people
            .iter()
            .find(|r| r.household_id != oldest.household_id)
        {
            let visit = VisitInput::parse(
                &fields(&[
                    ("met", "户主本人".into()),
                    ("findings", "了解家庭情况，宣传反诈知识".into()),
                ]),
                day,
            )
            .map_err(|e| first_error(&e))?;
            store
                .add_visit(&a, who, &other.household_id, &visit)
                .await
                .map_err(err)?;
        }
        // A key person in every fifth grid: a working-age man released from prison.
        if i % 5 == 0
            && let Some(r) = people
                .iter()
                .find(|r| r.sex == "男" && (25..60).contains(&r.age) && r.id != oldest.id)
        {
            let since = wangge_domain::people::calendar::add_days(day, -120).unwrap_or(day);
            let input = SpecialRecordInput::parse(
                &fields(&[
                    ("kind", "刑满释放人员".into()),
                    ("risk", "medium".into()),
                    ("helper", "社区民警、网格员".into()),
                    ("difficulties", "就业困难".into()),
                    ("requests", "推荐就业岗位".into()),
                    ("since", since.to_string()),
                ]),
                day,
            )
            .map_err(|e| first_error(&e))?;
            let record = store
                .add_special_record(&a, who, &r.id, &input)
                .await
                .map_err(err)?;
            let f = FollowUpInput::parse(
                &fields(&[
                    (
                        "date",
                        wangge_domain::people::calendar::add_days(since, 30)
                            .unwrap_or(day)
                            .to_string(),
                    ),
                    ("content", "谈话了解思想动态，已介绍到社区工厂务工".into()),
                ]),
                day,
            )
            .map_err(|e| first_error(&e))?;
            store
                .add_follow_up(&a, who, &record, &f)
                .await
                .map_err(err)?;
        }
    }
    Ok(())
}
