//! The JSON API. Every page's data is here too; writes take a JSON object of fields (strings,
//! numbers or booleans), parsed by the same domain code as the forms.
//!
//! The router and the OpenAPI document are built from one table ([`ROUTES`] and the entity
//! routes), so that a route cannot exist without being documented.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::{PartialSchema, ToSchema};
use wangge_domain::access::{Access, Permission};
use wangge_domain::registry::{Fields, Figures};
use wangge_domain::{Boundary, CountyCode};
use wangge_store::{
    Building, Community, CommunityPage, Compound, CompoundMove, CompoundPage, County, Department,
    FoldSummary, FoldedIn, Grid, GridPage, ImportSummary, Overview, SearchHit, Store, Street,
    StreetOverview,
};

use crate::entity::Entity;
use crate::error::{ApiError, AppError};
use crate::{Principal, SharedState};

type ApiResult = Result<Response, ApiError>;

pub(crate) fn routes() -> crate::Routes {
    let mut r = crate::Routes::new()
        .route("/api/openapi.json", &["GET"], get(openapi))
        .route("/api/overview", &["GET"], get(overview))
        .route("/api/county", &["PUT"], put(set_county))
        .route("/api/search", &["GET"], get(search))
        .route(
            "/api/departments",
            &["GET", "POST"],
            get(departments).post(create_department),
        )
        .route("/api/import/communities", &["POST"], post(import))
        .route("/api/export/communities", &["GET"], get(export))
        .route(
            "/api/communities/{key}/staff",
            &["GET", "POST"],
            get(api_staff).post(api_add_staff),
        )
        .route("/api/staff/{id}/end", &["POST"], post(api_end_staff));
    for e in Entity::ALL {
        let plural = e.plural();
        if let Some(parent) = parent_path(e) {
            r = r.route(
                &format!("/api/{parent}/{{key}}/{plural}"),
                &["POST"],
                post(move |s, p, k, b| create(e, s, p, Some(k), b)),
            );
        } else if e == Entity::Street {
            r = r.route(
                &format!("/api/{plural}"),
                &["POST"],
                post(move |s, p, b| create(e, s, p, None, b)),
            );
        }
        r = r
            .route(
                &format!("/api/{plural}/{{key}}"),
                &["GET", "PUT"],
                get(move |s, p, k| read(e, s, p, k)).put(move |s, p, k, b| update(e, s, p, k, b)),
            )
            .route(
                &format!("/api/{plural}/{{key}}/retire"),
                &["POST"],
                post(move |s, p, k, b| retire(e, s, p, k, b)),
            );
    }
    r
}

/// The collection a new record is posted under: /api/{parent}/{key}/{plural}.
fn parent_path(e: Entity) -> Option<&'static str> {
    match e {
        Entity::Community => Some("streets"),
        Entity::Grid | Entity::Compound => Some("communities"),
        Entity::Building => Some("compounds"),
        Entity::Street | Entity::Department => None,
    }
}

fn no_store(v: Value) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Json(v)).into_response()
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| {
        tracing::error!(error = %e, "serialising");
        ApiError(AppError::Internal)
    })
}

/// A JSON object of scalars as form fields.
pub(crate) fn fields_of(body: &Value) -> Result<Fields, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError(AppError::BadRequest(
            "请求体应为 JSON 对象".into(),
        )));
    };
    let mut f = Fields::new();
    for (k, v) in obj {
        let text = match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Bool(b) => if *b { "true" } else { "" }.to_string(),
            Value::Number(n) => n.to_string(),
            // A boundary comes as a GeoJSON object.
            Value::Object(_) if k == "geometry" => v.to_string(),
            _ => {
                return Err(ApiError(AppError::BadRequest(format!(
                    "字段“{k}”应为字符串、数字或布尔值"
                ))));
            }
        };
        f.insert(k.clone(), text);
    }
    Ok(f)
}

/// The body's fields under the names the forms use, refusing any the record does not have (a
/// misspelt field would otherwise be dropped without a word). A record's JSON names its grid
/// `grid_code`; it is taken for `grid`.
fn known_fields(e: Entity, creating: bool, given: Fields) -> Result<Fields, ApiError> {
    let names: Vec<&str> = e.fields(creating).iter().map(|v| v.name).collect();
    let mut f = Fields::new();
    let mut unknown = wangge_domain::registry::FieldErrors::new();
    for (k, v) in given {
        let k = match (e, k.as_str()) {
            (Entity::Compound, "grid_code") => "grid".to_string(),
            _ => k,
        };
        if names.contains(&k.as_str()) || Some(k.as_str()) == e.parent_field() {
            f.insert(k, v);
        } else {
            unknown.insert(
                k,
                format!("{}没有这一项；可填：{}", e.label(), names.join("、")),
            );
        }
    }
    if unknown.is_empty() {
        Ok(f)
    } else {
        Err(ApiError(AppError::Invalid(unknown)))
    }
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError(AppError::BadRequest(format!(
            "请求体不是有效的 JSON：{}",
            wangge_domain::text::json_error(&e)
        )))
    })
}

async fn overview(State(s): State<SharedState>, Extension(p): Extension<Principal>) -> ApiResult {
    Ok(no_store(to_json(&s.store.overview(&p.access).await?)?))
}

#[derive(Deserialize)]
struct CountyBody {
    code: String,
    name: String,
}

async fn set_county(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Json(b): Json<CountyBody>,
) -> ApiResult {
    let code = CountyCode::parse(&b.code).map_err(|e| {
        let mut f = wangge_domain::registry::FieldErrors::new();
        f.insert("code".into(), e.to_string());
        AppError::Invalid(f)
    })?;
    if b.name.trim().is_empty() {
        let mut f = wangge_domain::registry::FieldErrors::new();
        f.insert("name".into(), "不能为空".into());
        return Err(ApiError(AppError::Invalid(f)));
    }
    s.store
        .set_county(&p.access, &p.user_id, &code, b.name.trim())
        .await?;
    tracing::info!(user = %p.username, county = %code, "county set");
    Ok(no_store(to_json(&s.store.county().await?)?))
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    limit: Option<u64>,
}

async fn search(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<SearchQuery>,
) -> ApiResult {
    let hits = s
        .store
        .search(&p.access, &q.q, q.limit.unwrap_or(50))
        .await?;
    Ok(no_store(to_json(&hits)?))
}

async fn departments(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
) -> ApiResult {
    Ok(no_store(to_json(&s.store.departments(&p.access).await?)?))
}

async fn create_department(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    body: Bytes,
) -> ApiResult {
    create(Entity::Department, State(s), Extension(p), None, body).await
}

async fn create(
    e: Entity,
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    parent: Option<Path<String>>,
    body: Bytes,
) -> ApiResult {
    let f = known_fields(e, true, fields_of(&parse_body(&body)?)?)?;
    let parent = parent.map(|Path(k)| k);
    let key = e.create(&s.store, &p.access, parent.as_deref(), &f).await?;
    tracing::info!(user = %p.username, entity = e.plural(), key = %key, "created");
    let v = e.get(&s.store, &p.access, &key).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/{}/{key}", e.plural()))],
        Json(json!({"key": key, "record": v})),
    )
        .into_response())
}

async fn read(
    e: Entity,
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(key): Path<String>,
) -> ApiResult {
    Ok(no_store(e.get(&s.store, &p.access, &key).await?))
}

async fn update(
    e: Entity,
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult {
    let given = known_fields(e, false, fields_of(&parse_body(&body)?)?)?;
    // The fields left out keep their values: a client that sends only what it changes must not
    // wipe the rest (a compound's grid, its property management, its floor area).
    // The right first: only those who may write learn that a record is retired (409).
    s.store
        .may_write(&p.access, e.plural(), None, Some(&key))
        .await?;
    let (mut f, _, _) = e.current(&s.store, &p.access, &key).await?;
    f.extend(given);
    e.update(&s.store, &p.access, &key, &f).await?;
    tracing::info!(user = %p.username, entity = e.plural(), key = %key, "updated");
    Ok(no_store(e.get(&s.store, &p.access, &key).await?))
}

async fn retire(
    e: Entity,
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult {
    let f = fields_of(&parse_body(&body)?)?;
    e.retire(
        &s.store,
        &p.access,
        &key,
        f.get("valid_to").map(String::as_str),
    )
    .await?;
    tracing::info!(user = %p.username, entity = e.plural(), key = %key, "retired");
    Ok(no_store(e.get(&s.store, &p.access, &key).await?))
}

/// Reads an uploaded 附件2 file and imports it, all or nothing.
pub async fn import_bytes(
    store: &Store,
    a: &Access,
    file: &str,
    bytes: &[u8],
    since: Option<wangge_domain::Date>,
) -> Result<ImportSummary, AppError> {
    if !a.can_somewhere(Permission::RegistryImport) {
        return Err(AppError::Forbidden("无权导入官方表格".into()));
    }
    let sheets =
        wangge_sheets::read(file, bytes).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let tables = wangge_domain::annex2::read(&sheets).map_err(AppError::Cells)?;
    store
        .import_annex2(a, &tables, since)
        .await?
        .map_err(AppError::Cells)
}

#[derive(Deserialize)]
struct ImportQuery {
    filename: Option<String>,
    /// When the communities the table creates started (YYYY-MM-DD); today if left out.
    valid_from: Option<String>,
}

/// The start date an import was given for the communities it creates, if any.
pub(crate) fn import_since(raw: Option<&str>) -> Result<Option<wangge_domain::Date>, AppError> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => wangge_domain::Date::parse(t).map(Some).map_err(|_| {
            AppError::BadRequest(format!(
                "启用日期“{}”无效，应为 YYYY-MM-DD",
                t.chars().take(20).collect::<String>()
            ))
        }),
    }
}

async fn import(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> ApiResult {
    let file = q.filename.unwrap_or_else(|| "上传文件".into());
    let since = import_since(q.valid_from.as_deref())?;
    let summary = import_bytes(&s.store, &p.access, &file, &body, since).await?;
    tracing::info!(user = %p.username, "imported 附件2");
    Ok(no_store(to_json(&summary)?))
}

#[derive(Deserialize)]
struct ExportQuery {
    format: Option<String>,
    encoding: Option<String>,
}

async fn export(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Query(q): Query<ExportQuery>,
) -> ApiResult {
    let tables = s.store.annex2_tables(&p.access).await?;
    let (bytes, ct) = match q.format.as_deref().unwrap_or("xlsx") {
        "xlsx" => (
            wangge_sheets::annex2_xlsx(&tables),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "csv" => (
            wangge_sheets::annex2_csv(&tables, q.encoding.as_deref() == Some("gbk")),
            "text/csv",
        ),
        other => {
            return Err(ApiError(AppError::BadRequest(format!(
                "不支持的格式“{other}”，可选 xlsx、csv"
            ))));
        }
    };
    let bytes = bytes.map_err(|e| AppError::BadRequest(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, ct),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

// ---- OpenAPI ----------------------------------------------------------------------------

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn op(summary: &str, tag: &str, params: &[&str], body: Option<Value>, ok: (&str, Value)) -> Value {
    let mut o = json!({
        "summary": summary,
        "tags": [tag],
        "security": [{"session": []}],
        "responses": {
            ok.0: {"description": "成功", "content": {"application/json": {"schema": ok.1}}},
            "401": {"description": "未登录", "content": {"application/json": {"schema": schema_ref("Error")}}},
            "404": {"description": "未找到", "content": {"application/json": {"schema": schema_ref("Error")}}},
            "422": {"description": "输入有误（fields 按字段给出原因；cells 按行列给出表格错误）", "content": {"application/json": {"schema": schema_ref("Error")}}}
        }
    });
    if !params.is_empty() {
        o["parameters"] = Value::Array(
            params
                .iter()
                .map(|p| {
                    let (name, inn) = match p.strip_prefix('?') {
                        Some(q) => (q, "query"),
                        None => (*p, "path"),
                    };
                    json!({"name": name, "in": inn, "required": inn == "path", "schema": {"type": "string"}})
                })
                .collect(),
        );
    }
    if let Some(b) = body {
        o["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": b}}});
    }
    o
}

fn form_schema(e: Entity, creating: bool) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in e.fields(creating) {
        let ty = match f.kind {
            "number" => json!({"type": ["number", "string"], "description": f.label}),
            "checkbox" => json!({"type": ["boolean", "string"], "description": f.label}),
            "select" if !f.options.is_empty() => json!({"type": "string", "description": f.label,
                "enum": f.options.iter().map(|o| o.0.clone()).collect::<Vec<_>>()}),
            _ => json!({"type": "string", "description": f.label}),
        };
        if f.required {
            required.push(f.name);
        }
        props.insert(f.name.to_string(), ty);
    }
    json!({"type": "object", "properties": props, "required": required})
}

/// The OpenAPI 3.1 document of every route under /api/.
pub fn openapi_document() -> Value {
    let mut paths = Map::new();
    let mut add = |path: String, method: &str, v: Value| {
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[method] = v;
    };
    add(
        "/api/overview".into(),
        "get",
        op(
            "全县总览：各街道、社区的网格、小区、户数、人口（同附件2）",
            "registry",
            &[],
            None,
            ("200", schema_ref("Overview")),
        ),
    );
    add(
        "/api/county".into(),
        "put",
        op(
            "设置本县（区）",
            "registry",
            &[],
            Some(
                json!({"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}, "required": ["code", "name"]}),
            ),
            ("200", schema_ref("County")),
        ),
    );
    add(
        "/api/search".into(),
        "get",
        op(
            "按名称或代码搜索街道、社区、网格、小区",
            "registry",
            &["?q", "?limit"],
            None,
            (
                "200",
                json!({"type": "array", "items": schema_ref("SearchHit")}),
            ),
        ),
    );
    add(
        "/api/departments".into(),
        "get",
        op(
            "职能部门列表",
            "registry",
            &[],
            None,
            (
                "200",
                json!({"type": "array", "items": schema_ref("Department")}),
            ),
        ),
    );
    add(
        "/api/departments".into(),
        "post",
        op(
            "新建职能部门",
            "registry",
            &[],
            Some(form_schema(Entity::Department, true)),
            ("201", json!({"type": "object"})),
        ),
    );
    add(
        "/api/import/communities".into(),
        "post",
        op(
            "导入社区基本情况表（附件2）：请求体为 .xlsx/.xls/.csv 文件内容；全部成功或全部不写",
            "tables",
            &["?filename", "?valid_from"],
            Some(json!({"type": "string", "format": "binary"})),
            ("200", schema_ref("ImportSummary")),
        ),
    );
    add(
        "/api/import/residents".into(),
        "post",
        op(
            "导入户和居民：请求体为 .xlsx/.xls/.csv（UTF-8 或 GBK）文件内容；逐行校验，错误按行列给出；全部成功或全部不写",
            "people",
            &["?filename"],
            Some(json!({"type": "string", "format": "binary"})),
            ("200", json!({"type": "object"})),
        ),
    );
    add(
        "/api/export/communities".into(),
        "get",
        op(
            "导出社区基本情况表（附件2）",
            "tables",
            &["?format", "?encoding"],
            None,
            ("200", json!({"type": "string", "format": "binary"})),
        ),
    );
    add(
        "/api/openapi.json".into(),
        "get",
        op(
            "本文档",
            "meta",
            &[],
            None,
            ("200", json!({"type": "object"})),
        ),
    );
    for e in Entity::ALL {
        let plural = e.plural();
        let record = match e {
            Entity::Street => schema_ref("StreetOverview"),
            Entity::Community => schema_ref("CommunityPage"),
            Entity::Grid => schema_ref("GridPage"),
            Entity::Compound => schema_ref("CompoundPage"),
            Entity::Building => schema_ref("Building"),
            Entity::Department => schema_ref("Department"),
        };
        let created = json!({"type": "object", "properties": {"key": {"type": "string"}, "record": record.clone()}});
        if let Some(parent) = parent_path(e) {
            add(
                format!("/api/{parent}/{{key}}/{plural}"),
                "post",
                op(
                    &format!("新建{}", e.label()),
                    plural,
                    &["key"],
                    Some(form_schema(e, true)),
                    ("201", created),
                ),
            );
        } else if e == Entity::Street {
            add(
                format!("/api/{plural}"),
                "post",
                op(
                    &format!("新建{}", e.label()),
                    plural,
                    &[],
                    Some(form_schema(e, true)),
                    ("201", created),
                ),
            );
        }
        add(
            format!("/api/{plural}/{{key}}"),
            "get",
            op(
                &format!("{}详情", e.label()),
                plural,
                &["key"],
                None,
                ("200", record.clone()),
            ),
        );
        add(
            format!("/api/{plural}/{{key}}"),
            "put",
            op(
                &format!("修改{}", e.label()),
                plural,
                &["key"],
                Some(form_schema(e, false)),
                ("200", record.clone()),
            ),
        );
        add(
            format!("/api/{plural}/{{key}}/retire"),
            "post",
            op(
                &format!("撤销{}（记录保留，代码不再使用）", e.label()),
                plural,
                &["key"],
                Some(
                    json!({"type": "object", "properties": {"valid_to": {"type": "string", "format": "date"}}}),
                ),
                ("200", record),
            ),
        );
    }
    // Accounts, roles, permissions, audit (see admin.rs).
    let obj = || json!({"type": "object"});
    let arr = || json!({"type": "array", "items": {"type": "object"}});
    add(
        "/api/session".into(),
        "get",
        op(
            "当前会话：用户、角色、CSRF 令牌（写操作须在 X-CSRF-Token 头中带上）",
            "accounts",
            &[],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/users".into(),
        "get",
        op(
            "账号列表（系统管理员、安全管理员）",
            "accounts",
            &[],
            None,
            ("200", arr()),
        ),
    );
    add(
        "/api/users".into(),
        "post",
        op(
            "新建账号，返回一次性密码（系统管理员）",
            "accounts",
            &[],
            Some(
                json!({"type": "object", "properties": {"username": {"type": "string"}, "display_name": {"type": "string"}}, "required": ["username"]}),
            ),
            ("201", obj()),
        ),
    );
    add(
        "/api/users/{id}".into(),
        "get",
        op("账号详情", "accounts", &["id"], None, ("200", obj())),
    );
    add(
        "/api/users/{id}/roles".into(),
        "put",
        op(
            "设置角色与范围（安全管理员），如 [\"grid_worker@370725001001001\"]",
            "accounts",
            &["id"],
            Some(
                json!({"type": "object", "properties": {"grants": {"type": "array", "items": {"type": "string"}}}}),
            ),
            ("200", obj()),
        ),
    );
    add(
        "/api/users/{id}/disable".into(),
        "post",
        op(
            "停用账号（其会话立即结束）",
            "accounts",
            &["id"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/users/{id}/enable".into(),
        "post",
        op(
            "启用账号并解除锁定",
            "accounts",
            &["id"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/users/{id}/password".into(),
        "post",
        op(
            "重置为一次性密码",
            "accounts",
            &["id"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/users/{id}/release-reveal".into(),
        "post",
        op(
            "核实本人后恢复查看完整证件号、电话（安全管理员；密码被他人重置后暂停）",
            "accounts",
            &["id"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/users/{id}/totp-reset".into(),
        "post",
        op(
            "清除两步验证（手机丢失；安全管理员），下次登录重新绑定",
            "accounts",
            &["id"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/permissions".into(),
        "get",
        op("角色权限表", "accounts", &[], None, ("200", arr())),
    );
    add(
        "/api/permissions".into(),
        "put",
        op(
            "替换角色权限表（安全管理员）",
            "accounts",
            &[],
            Some(arr()),
            ("200", obj()),
        ),
    );
    add(
        "/api/audit".into(),
        "get",
        op(
            "审计日志（审计管理员），可按用户、操作、日期筛选",
            "audit",
            &["?user", "?action", "?from", "?to"],
            None,
            ("200", arr()),
        ),
    );
    add(
        "/api/budget".into(),
        "get",
        op(
            "预算：由登记数据与适用的政策文件计算的补贴、经费、社工（单位：分），按街道 → 社区 → 网格 → 人员",
            "budget",
            &["?year"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/budget/findings".into(),
        "get",
        op(
            "合规检查结果，可按类别、街道、程度筛选",
            "budget",
            &["?year", "?kind", "?street", "?severity"],
            None,
            ("200", arr()),
        ),
    );
    add(
        "/api/communities/{key}/staff".into(),
        "get",
        op(
            "社区及其网格的人员配备（网格长、网格员、指导员、警务助理、全科社工、下沉人员）",
            "staff",
            &["key"],
            None,
            ("200", arr()),
        ),
    );
    add(
        "/api/communities/{key}/staff".into(),
        "post",
        op(
            "配备人员：person_name、role、grid（网格岗位必填）、also_police_assistant、from、to",
            "staff",
            &["key"],
            Some(obj()),
            ("201", obj()),
        ),
    );
    add(
        "/api/staff/{id}/end".into(),
        "post",
        op(
            "结束一项人员配备（记录保留）",
            "staff",
            &["id"],
            Some(
                json!({"type": "object", "properties": {"valid_to": {"type": "string", "format": "date"}}}),
            ),
            ("200", arr()),
        ),
    );
    add(
        "/api/plan/communities/{code}".into(),
        "get",
        op(
            "生成社区网格划分方案（GeoJSON：每个网格一个要素，含 code、households、compounds、in_band、reason；summary.plan 为方案指纹，采用时传回）；户数区间默认取适用的政策文件；gap 为相邻距离（米，0–200，缺省为边界相接才相邻）；keep 为保持不变的现有网格（编码或其末 3 位，以逗号分隔：原样保留，reason 为 fixed，其余小区绕开它们划分）；网格不跨越街道登记的街路河界线；summary.needs 为按现行政策（summary.needs_policy）测算的人员和经费：网格指导员岗位、应设 / 可设网格长、网格员、计补贴的网格、网格员月补贴和办公设施设备费用（分）、网格服务站最小面积，政策未规定的为 null",
            "plan",
            &["code", "?min", "?max", "?gap", "?keep"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/plan/streets/{code}".into(),
        "get",
        op(
            "生成街道内全部社区的网格划分方案：communities 每个社区一行（方案网格、在区间内 / 可计入、理论上限、移动小区、保留 / 合并 / 拆分 / 新建 / 撤销，或 problem 说明不能生成的原因），total 为合计（needs 为按现行政策测算的人员和经费），plan 为方案指纹（一次采用全部方案时传回）；keep 为保持不变的现有网格（15 位编码，以逗号分隔）",
            "plan",
            &["code", "?min", "?max", "?gap", "?keep"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/plan/streets/{code}/geojson".into(),
        "get",
        op(
            "街道内全部社区的网格划分方案，合为一个 GeoJSON FeatureCollection（每个方案网格一个要素，属性同社区方案，另有 community、community_name），供在 GIS 中核对；summary 给出户数标准、相邻距离、保持不变的网格、方案指纹和不能生成方案的社区（not_planned）",
            "plan",
            &["code", "?min", "?max", "?gap", "?keep"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/plan/compare".into(),
        "get",
        op(
            "全县（区）户数标准比选：同街道的比选，范围为全县（区）各街道；bands 每项另有 streets，逐街道给出合计；keep 为 15 位网格编码",
            "plan",
            &["?bands", "?gap", "?keep"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/plan/streets/{code}/compare".into(),
        "get",
        op(
            "户数标准比选：按几个网格户数标准（bands，如 500-600,300-500；缺省为各政策文件中的网格规模，现行的在前）分别划分街道内全部社区，bands 每项给出标准及其来源、合计（方案网格、在区间内、可计入、理论上限、移动小区、保留 / 合并 / 拆分 / 新建 / 撤销）、平均每格户数和不能生成方案的社区数，total.needs 为按现行政策（needs_policy）测算的人员和经费；只作比较，不作修改",
            "plan",
            &["code", "?bands", "?gap", "?keep"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/plan/communities/{code}/adopt".into(),
        "post",
        op(
            "采用方案：撤销被替代的网格（保留历史）、新建网格、调整小区归属",
            "plan",
            &["code"],
            Some(
                json!({"type": "object", "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}, "gap": {"type": "number", "description": "相邻距离（米），与查看方案时相同"}, "keep": {"type": "array", "items": {"type": "string"}, "description": "保持不变的现有网格编码，与查看方案时相同（也可为以逗号分隔的字符串）"}, "staff_follow": {"type": "boolean", "description": "true：被撤销网格上的人员同日调入接收其最多住户的网格（回应中 staff_moved 列出）；否则只结束配备（staff_ended 列出）"}, "plan": {"type": "string", "description": "方案指纹（GET 方案返回的 summary.plan）；给出时，方案已变化则拒绝（409），不作修改"}}}),
            ),
            ("200", obj()),
        ),
    );
    add(
        "/api/communities/{code}/boundaries".into(),
        "post",
        op(
            "导入社区内小区的边界：请求体为 GeoJSON FeatureCollection（UTF-8 或 GBK 编码），每个要素的 properties.id 或 name 指明小区，几何为 Polygon 或 MultiPolygon；任何一处有误则不写入（422，problems 逐条指明要素）",
            "plan",
            &["code"],
            Some(json!({"type": "object", "description": "GeoJSON FeatureCollection"})),
            ("200", obj()),
        ),
    );
    add(
        "/api/streets/{code}/barriers".into(),
        "get",
        op(
            "街道登记的街路河界线（GeoJSON FeatureCollection，properties 含 name、kind）：自动划分网格时网格不跨越这些界线",
            "plan",
            &["code"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/streets/{code}/barriers".into(),
        "put",
        op(
            "替换街道的街路河界线：请求体为 GeoJSON FeatureCollection（UTF-8 或 GBK 编码），几何为 LineString 或 MultiLineString，properties.name 为名称、kind 为类别（缺省为道路）；任何一处有误则不写入（422，problems 逐条指明要素）",
            "plan",
            &["code"],
            Some(json!({"type": "object", "description": "GeoJSON FeatureCollection"})),
            ("200", obj()),
        ),
    );
    add(
        "/api/streets/{code}/barriers".into(),
        "delete",
        op(
            "清除街道的全部街路河界线",
            "plan",
            &["code"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/departments/{id}/grids".into(),
        "get",
        op(
            "部门自行划定的网格：in_force 为待撤销并入的，folded 为已撤销并入的；每个网格列出所含小区及其所属统一网格（已并入的为撤销当日所属），shares 按统一网格汇总（第一个为主要并入网格），unplaced 为尚未划入统一网格的小区数",
            "plan",
            &["id"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/departments/{id}/grids".into(),
        "put",
        op(
            "导入部门网格图层，替换本部门尚未撤销的网格：请求体为 GeoJSON FeatureCollection（UTF-8 或 GBK 编码），每个要素的 properties.name 为网格名称，code 为部门编码（可选），compounds 为所含小区编号或名称的数组（同名小区不止一个时 community 写明社区代码或名称），或不给 compounds 而给 Polygon / MultiPolygon 边界（按小区边界找出大部分面积落在其中的小区）；一个小区只能属于一个部门网格；任何一处有误则不写入（422，problems 逐条指明要素）；成功时回应 {\"grids\": 网格数}",
            "plan",
            &["id"],
            Some(json!({"type": "object", "description": "GeoJSON FeatureCollection"})),
            ("200", obj()),
        ),
    );
    add(
        "/api/departments/{id}/grids".into(),
        "delete",
        op(
            "清除本部门待撤销的网格（如导入有误）：当日结束，保留为历史记录；已撤销并入的不受影响",
            "plan",
            &["id"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/departments/{id}/grids/fold".into(),
        "post",
        op(
            "撤销本部门全部待撤销的网格，统一归属新网格管理：记下各小区当日所属的统一网格和承接户数最多的网格；有小区尚未划入统一网格时拒绝（409），不作修改。请求体可为 {\"layer\": …}（GET 中网格的 layer）：该部门的网格已重新导入、不再是这一批时拒绝（409）",
            "plan",
            &["id"],
            None,
            ("200", schema_ref("FoldSummary")),
        ),
    );
    add(
        "/api/plan/streets/{code}/adopt".into(),
        "post",
        op(
            "一次采用街道内全部社区的方案（同一事务：任一社区不能采用时全部不采用）；住户与居民随小区或被撤销网格的主要去向调整",
            "plan",
            &["code"],
            Some(
                json!({"type": "object", "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}, "gap": {"type": "number", "description": "相邻距离（米），与查看方案时相同"}, "keep": {"type": "array", "items": {"type": "string"}, "description": "保持不变的现有网格编码，与查看方案时相同（也可为以逗号分隔的字符串）"}, "staff_follow": {"type": "boolean", "description": "true：被撤销网格上的人员同日调入接收其最多住户的网格（回应中 staff_moved 列出）；否则只结束配备（staff_ended 列出）"}, "plan": {"type": "string", "description": "方案指纹（GET 方案返回的 summary.plan）；给出时，方案已变化则拒绝（409），不作修改"}}}),
            ),
            ("200", obj()),
        ),
    );
    add(
        "/api/communities/{key}/investment".into(),
        "put",
        op(
            "设置社区某年的改造升级费用（附件3）：year、amount_wan（万元，精确到分）",
            "budget",
            &["key"],
            Some(obj()),
            ("200", obj()),
        ),
    );
    add(
        "/api/streets/{key}/recruitment".into(),
        "put",
        op(
            "设置街道某年社会招聘的全科社工人数（附件3）：year、social_workers",
            "budget",
            &["key"],
            Some(obj()),
            ("200", obj()),
        ),
    );
    add(
        "/api/grids/{key}/residents".into(),
        "get",
        op(
            "网格居民（证件号、电话已脱敏）与统计",
            "people",
            &["key"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/residents/{id}".into(),
        "get",
        op("居民详情（脱敏）", "people", &["id"], None, ("200", obj())),
    );
    add(
        "/api/residents/{id}/reveal".into(),
        "post",
        op(
            "查看完整证件号和电话：须有查看权限并说明理由（reason），记入审计日志",
            "people",
            &["id"],
            Some(
                json!({"type": "object", "properties": {"reason": {"type": "string"}}, "required": ["reason"]}),
            ),
            ("200", obj()),
        ),
    );
    let id_body = |props: Value, required: &[&str]| {
        Some(json!({"type": "object", "properties": props, "required": required}))
    };
    add(
        "/api/households/{id}".into(),
        "get",
        op(
            "户：成员（脱敏）、已迁出成员、走访记录",
            "people",
            &["id"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/households/{id}/close".into(),
        "post",
        op(
            "注销已无在册或现居居民的户：不再计入网格（记录保留）；返回该户",
            "people",
            &["id"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/households/{id}/place".into(),
        "put",
        op(
            "调整户所在小区（及楼栋、门牌）：户随小区进入其网格，成员一并调整；返回该户",
            "people",
            &["id"],
            id_body(
                json!({"compound": {"type": "string", "description": "小区 id"}, "building": {"type": "string", "description": "楼栋 id（同一小区内不给则保留原楼栋）"}, "address": {"type": "string"}}),
                &["compound"],
            ),
            ("200", obj()),
        ),
    );
    add(
        "/api/households/{id}/visits".into(),
        "post",
        op(
            "记录入户走访（民情日志）：date（空为今天）、met、findings、follow_up；special_record 同时记为该帮扶记录的跟进",
            "people",
            &["id"],
            id_body(
                json!({"date": {"type": "string", "format": "date"}, "met": {"type": "string"}, "findings": {"type": "string"}, "follow_up": {"type": "string"}, "special_record": {"type": "string"}}),
                &["met", "findings"],
            ),
            ("201", obj()),
        ),
    );
    add(
        "/api/households/{id}/residents".into(),
        "post",
        op(
            "在该户登记新成员：kind（move_in 迁入 / birth 出生）、name、id_number、phone、relation、ethnicity、political_status、employment、moved_in、residing_household（人户分离时的现居住户号）",
            "people",
            &["id"],
            id_body(
                json!({"kind": {"type": "string", "enum": ["move_in", "birth"]}, "name": {"type": "string"}, "id_number": {"type": "string"}, "phone": {"type": "string"}, "relation": {"type": "string"}, "moved_in": {"type": "string", "format": "date"}, "residing_household": {"type": "string"}}),
                &["name", "id_number"],
            ),
            ("201", obj()),
        ),
    );
    for method in ["get", "post"] {
        add(
            "/api/compounds/{id}/households".into(),
            method,
            if method == "get" {
                op(
                    "小区（村庄）的在册住户",
                    "people",
                    &["id"],
                    None,
                    ("200", arr()),
                )
            } else {
                op(
                    "在小区（村庄）登记新户：kind（registered 户籍户 / residing 居住户）、building（楼栋 id，可空）、address、number（空则自动编号）",
                    "people",
                    &["id"],
                    id_body(
                        json!({"kind": {"type": "string", "enum": ["registered", "residing"]}, "building": {"type": "string"}, "address": {"type": "string"}, "number": {"type": "string"}}),
                        &[],
                    ),
                    ("201", obj()),
                )
            },
        );
    }
    add(
        "/api/residents/{id}/basic".into(),
        "put",
        op(
            "修改居民基本信息：name、phone（留空不变）、ethnicity、political_status、employment、relation；公民身份号码不可修改",
            "people",
            &["id"],
            id_body(
                json!({"name": {"type": "string"}, "phone": {"type": "string"}, "ethnicity": {"type": "string"}, "political_status": {"type": "string"}, "employment": {"type": "string"}, "relation": {"type": "string"}}),
                &["name"],
            ),
            ("200", obj()),
        ),
    );
    for method in ["get", "post"] {
        add(
            "/api/residents/{id}/special-records".into(),
            method,
            if method == "get" {
                op(
                    "居民的特殊人群、重点人员记录及跟进（只含您的角色可见的类别）",
                    "people",
                    &["id"],
                    None,
                    ("200", arr()),
                )
            } else {
                op(
                    "登记特殊人群或重点人员：kind、risk（重点人员必填）、helper（重点人员必填）、helper_phone、difficulties、requests、since、until、note",
                    "people",
                    &["id"],
                    id_body(
                        json!({"kind": {"type": "string"}, "risk": {"type": "string", "enum": ["low", "medium", "high"]}, "helper": {"type": "string"}, "helper_phone": {"type": "string"}, "difficulties": {"type": "string"}, "requests": {"type": "string"}, "since": {"type": "string", "format": "date"}, "until": {"type": "string", "format": "date"}, "note": {"type": "string"}}),
                        &["kind"],
                    ),
                    ("201", obj()),
                )
            },
        );
    }
    add(
        "/api/special-records/{id}/follow-ups".into(),
        "post",
        op(
            "添加跟进：date（空为今天）、content、risk（重新评估，可空）；按风险等级计算下次跟进日期",
            "people",
            &["id"],
            id_body(
                json!({"date": {"type": "string", "format": "date"}, "content": {"type": "string"}, "risk": {"type": "string"}}),
                &["content"],
            ),
            ("201", obj()),
        ),
    );
    add(
        "/api/special-records/{id}/end".into(),
        "post",
        op(
            "解除列管或结束帮扶（登记有误的也在此撤回）：until（空为今天）、reason；记录与跟进保留",
            "people",
            &["id"],
            id_body(
                json!({"until": {"type": "string", "format": "date"}, "reason": {"type": "string"}}),
                &["reason"],
            ),
            ("200", obj()),
        ),
    );
    for method in ["get", "post"] {
        add(
            "/api/residents/{id}/moves".into(),
            method,
            if method == "get" {
                op("居民的迁移记录", "people", &["id"], None, ("200", arr()))
            } else {
                op(
                    "登记迁移：kind（move_out 迁出 / death 死亡 / transfer 户间迁移 / move_in 迁回）、date、household（户间迁移的迁入户户号）、place、reason；不删除任何记录",
                    "people",
                    &["id"],
                    id_body(
                        json!({"kind": {"type": "string"}, "date": {"type": "string", "format": "date"}, "household": {"type": "string"}, "place": {"type": "string"}, "reason": {"type": "string"}}),
                        &["kind", "date"],
                    ),
                    ("200", arr()),
                )
            },
        );
    }
    add(
        "/api/grids/{key}/special-records".into(),
        "get",
        op(
            "网格在管的特殊人群、重点人员（可见类别），下次跟进最早的在前",
            "people",
            &["key"],
            None,
            ("200", arr()),
        ),
    );
    add(
        "/api/grids/{key}/visits".into(),
        "get",
        op(
            "网格最近的走访记录",
            "people",
            &["key"],
            None,
            ("200", arr()),
        ),
    );
    add(
        "/api/people/stats/{code}".into(),
        "get",
        op(
            "任一地方（县、街道、社区、网格代码）的人口统计及其下级分项：户数、户籍/居住、人户分离、性别、年龄段、特殊人群（可见类别）、本月走访",
            "people",
            &["code"],
            None,
            ("200", obj()),
        ),
    );
    add(
        "/api/people/search".into(),
        "post",
        op(
            "查找居民：按公民身份号码精确查找（号码放在请求体中，不进入地址栏），或按姓名（含部分）、户号查找（含已迁出、死亡的，最多 100 人）；只返回管辖范围内的",
            "people",
            &[],
            Some(
                json!({"type": "object", "properties": {"id_number": {"type": "string"}, "name": {"type": "string", "description": "姓名或其中几个字，或户号"}}}),
            ),
            ("200", arr()),
        ),
    );
    add(
        "/api/audit/verify".into(),
        "get",
        op("校验审计日志哈希链", "audit", &[], None, ("200", obj())),
    );
    let mut schemas = Map::new();
    let mut put_schema =
        |name: std::borrow::Cow<'static, str>,
         s: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| {
            schemas.insert(
                name.into_owned(),
                serde_json::to_value(s).unwrap_or(Value::Null),
            );
        };
    macro_rules! schemas {
        ($($t:ty),*) => { $( put_schema(<$t as ToSchema>::name(), <$t as PartialSchema>::schema()); )* };
    }
    schemas!(
        Figures,
        Boundary,
        County,
        Street,
        Community,
        Grid,
        Compound,
        Building,
        Department,
        Overview,
        StreetOverview,
        CommunityPage,
        GridPage,
        CompoundPage,
        SearchHit,
        ImportSummary,
        FoldSummary,
        CompoundMove,
        FoldedIn
    );
    schemas.insert(
        "Error".into(),
        json!({"type": "object", "properties": {
            "error": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "messages": {"type": "array", "items": {"type": "string"}}
        }, "required": ["error"]}),
    );
    json!({
        "openapi": "3.1.0",
        "info": {"title": "wangge 网格化服务管理 API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "登录（POST /login，表单字段 username、password）后凭会话 Cookie 调用。"},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": crate::auth::COOKIE}}
        }
    })
}

async fn openapi() -> Response {
    Json(openapi_document()).into_response()
}

async fn api_staff(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(key): Path<String>,
) -> ApiResult {
    Ok(no_store(to_json(
        &s.store.community_staff(&p.access, &key).await?,
    )?))
}

async fn api_add_staff(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(key): Path<String>,
    body: Bytes,
) -> ApiResult {
    let f = fields_of(&parse_body(&body)?)?;
    let input = wangge_domain::registry::StaffInput::parse(&f).map_err(AppError::Invalid)?;
    let person = s.store.add_staff(&p.access, &key, &input).await?;
    Ok((StatusCode::CREATED, Json(json!({"person_id": person}))).into_response())
}

async fn api_end_staff(
    State(s): State<SharedState>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let f = fields_of(&parse_body(&body)?)?;
    let on = match f
        .get("valid_to")
        .map(|x| x.trim())
        .filter(|x| !x.is_empty())
    {
        Some(d) => Some(wangge_domain::Date::parse(d).map_err(|e| {
            let mut m = wangge_domain::registry::FieldErrors::new();
            m.insert("valid_to".into(), e.to_string());
            AppError::Invalid(m)
        })?),
        None => None,
    };
    let community = s.store.end_staff(&p.access, &id, on).await?;
    Ok(no_store(to_json(
        &s.store.community_staff(&p.access, &community).await?,
    )?))
}
