//! One error type at the HTTP edge: it maps to a status code, keeps database details in the
//! log, and speaks to users in Chinese — as JSON for the API, as a page for the browser.

use askama::Template;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use wangge_domain::annex2::CellError;
use wangge_domain::registry::FieldErrors;
use wangge_store::StoreError;

#[derive(Debug)]
pub enum AppError {
    NotFound(String),
    Invalid(FieldErrors),
    /// Errors in an uploaded table, by row and column.
    Cells(Vec<CellError>),
    Conflict(String),
    BadRequest(String),
    Forbidden(String),
    Internal,
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => AppError::NotFound(m),
            StoreError::Invalid(f) => AppError::Invalid(f),
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Config(m) => AppError::BadRequest(m),
            StoreError::Forbidden(m) => AppError::Forbidden(m),
            StoreError::Db(e) => {
                tracing::error!(error = %e, "database error");
                AppError::Internal
            }
        }
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Invalid(_) | AppError::Cells(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn message(&self) -> String {
        match self {
            AppError::NotFound(m)
            | AppError::Conflict(m)
            | AppError::BadRequest(m)
            | AppError::Forbidden(m) => m.clone(),
            AppError::Invalid(f) => format!("输入有误：{}", describe(f)),
            AppError::Cells(c) => format!("表格有 {} 处错误，未导入任何数据", c.len()),
            AppError::Internal => "服务器内部错误，请稍后重试或联系管理员".into(),
        }
    }
}

/// The API's form of an error: `{"error": "...", "fields": {...}, "cells": [...]}`.
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.0.message() });
        match &self.0 {
            AppError::Invalid(f) => body["fields"] = json!(f),
            AppError::Cells(c) => {
                body["cells"] = json!(c);
                body["messages"] = json!(c.iter().map(|e| e.to_string()).collect::<Vec<_>>());
            }
            _ => {}
        }
        (self.0.status(), Json(body)).into_response()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    message: String,
    /// A page to try again from, and what the link says.
    again: Option<(String, String)>,
    /// A plan page to open again with a household band typed in (no policy gives one).
    ask_band: Option<String>,
}

/// A request refused because what it acted on changed (409): why, and a link back to look
/// again.
pub fn conflict_page(why: &str, again: &str, label: &str) -> Response {
    let mut res = crate::auth::render(&ErrorPage {
        title: "无法完成操作".into(),
        message: why.to_string(),
        again: Some((again.to_string(), label.to_string())),
        ask_band: None,
    });
    *res.status_mut() = StatusCode::CONFLICT;
    res
}

/// A page refused for what was typed into it: why, and a link to the page as it starts.
pub fn retry_page(why: &str, again: &str) -> Response {
    let mut res = crate::auth::render(&ErrorPage {
        title: "请求有误".into(),
        message: why.to_string(),
        again: Some((
            again.to_string(),
            "重新填写（按现行政策的默认值打开）".into(),
        )),
        ask_band: None,
    });
    *res.status_mut() = StatusCode::BAD_REQUEST;
    res
}

/// A plan page that has no band to plan under (no policy of the county gives one, none was
/// asked): why, and a form for the band, opening the same page again with it.
pub fn band_page(why: &str, again: &str) -> Response {
    crate::auth::render(&ErrorPage {
        title: "请填写网格户数区间".into(),
        message: why.to_string(),
        again: None,
        ask_band: Some(again.to_string()),
    })
}

/// The browser's form of an error: a page that says what happened and where to go.
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = match self.0.status() {
            StatusCode::NOT_FOUND => "未找到",
            StatusCode::CONFLICT => "无法完成操作",
            StatusCode::FORBIDDEN => "无权访问",
            StatusCode::INTERNAL_SERVER_ERROR => "出错了",
            _ => "请求有误",
        };
        let mut res = crate::auth::render(&ErrorPage {
            title: title.into(),
            message: self.0.message(),
            again: None,
            ask_band: None,
        });
        *res.status_mut() = self.0.status();
        res
    }
}

/// An error the framework answered before any handler ran (a malformed query string, form or
/// JSON body, a wrong method, an unknown address), in the same Chinese forms as every other
/// error: JSON under `/api/`, a page elsewhere; the parser's own words stay in brackets for
/// whoever debugs an API client.
pub fn framework_error(api: bool, status: StatusCode, detail: &str) -> Response {
    let detail = detail.trim();
    let head = if status == StatusCode::NOT_FOUND {
        "没有这个地址，请从首页或导航进入"
    } else if status == StatusCode::METHOD_NOT_ALLOWED {
        "该地址不支持这种请求方法"
    } else if status == StatusCode::PAYLOAD_TOO_LARGE {
        "上传的内容过大"
    } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        "请求内容的类型不对（Content-Type）"
    } else if detail.starts_with("Failed to deserialize query string") {
        "地址中的参数有误"
    } else if detail.starts_with("Failed to deserialize form") {
        "表单内容有误，请检查各项后再提交"
    } else if detail.contains("JSON") || detail.contains("json") {
        "JSON 内容有误"
    } else {
        "请求有误"
    };
    let message = match cause(detail) {
        Some(why) => format!("{head}：{why}"),
        None => head.to_string(),
    };
    let mut res = if api {
        // The parser's own (English) words only for whoever debugs an API client.
        let mut body = json!({ "error": message });
        if !detail.is_empty() {
            body["detail"] = json!(detail);
        }
        Json(body).into_response()
    } else {
        let title = if status == StatusCode::NOT_FOUND {
            "未找到"
        } else {
            "请求有误"
        };
        crate::auth::render(&ErrorPage {
            title: title.into(),
            message,
            again: None,
            ask_band: None,
        })
    };
    *res.status_mut() = status;
    res
}

/// What the framework's parser (serde, in English) found wrong, in Chinese, when it is one of
/// the causes a person can act on: "year: invalid digit found in string" → 「年份」应为数字.
fn cause(detail: &str) -> Option<String> {
    let tick = |after: &str| {
        detail
            .split_once(after)
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(name, _)| name.to_string())
    };
    let label = |k: &str| {
        let l = field_label(k);
        if l == k {
            format!("「{k}」")
        } else {
            format!("「{l}」（{k}）")
        }
    };
    // "…: year: invalid digit found in string": the field is the part before the last cause.
    let field_of = |cause: &str| {
        let before = detail.split_once(cause)?.0.trim_end().strip_suffix(':')?;
        let field = before.rsplit(": ").next()?.trim();
        (!field.is_empty() && !field.contains(' ')).then(|| label(field))
    };
    let at = detail
        .rsplit_once(" at line ")
        .and_then(|(_, rest)| rest.split_once(" column "))
        .and_then(|(l, c)| Some((l.parse::<u64>().ok()?, c.trim().parse::<u64>().ok()?)))
        .map(|(l, c)| format!("（第 {l} 行第 {c} 列）"))
        .unwrap_or_default();
    if let Some(name) = tick("duplicate field `") {
        return Some(format!("参数{}出现了不止一次", label(&name)));
    }
    if let Some(name) = tick("missing field `") {
        return Some(format!("缺少{}{at}", label(&name)));
    }
    if let Some(name) = tick("unknown field `") {
        return Some(format!("没有{}这一项{at}", label(&name)));
    }
    if let Some(value) = tick("unknown variant `") {
        return Some(format!("「{value}」不是可选的取值{at}"));
    }
    for (serde, says) in [
        ("invalid digit found in string", "应为整数"),
        ("cannot parse integer from empty string", "不能为空"),
        ("number too large to fit in target type", "数值过大"),
        ("number too small to fit in target type", "数值过小"),
        ("invalid float literal", "应为数字"),
        (
            "provided string was not `true` or `false`",
            "应为 true 或 false",
        ),
    ] {
        if detail.contains(serde) {
            return Some(match field_of(serde) {
                Some(f) => format!("{f}{says}"),
                None => says.to_string(),
            });
        }
    }
    if detail.contains("invalid type") {
        return Some(format!("内容的类型不符合要求{at}"));
    }
    if detail.contains("EOF while parsing") {
        return Some(format!("内容不完整{at}"));
    }
    if detail.contains("Failed to parse the request body as JSON") {
        return Some(format!("不是 JSON 的写法{at}"));
    }
    if detail.contains("Content-Type: application/json") {
        return Some("请以 application/json 发送".into());
    }
    if detail.contains("multipart") {
        return Some("请以 multipart/form-data 上传文件".into());
    }
    None
}

/// Field names as users read them in error messages.
pub(crate) fn field_label(k: &str) -> &str {
    match k {
        "kind" => "类别",
        "helper" => "帮扶责任人",
        "helper_phone" => "帮扶责任人电话",
        "difficulties" => "困难",
        "requests" => "诉求",
        "risk" => "风险等级",
        "since" => "列管日期",
        "until" => "解除日期",
        "note" => "备注",
        "date" => "日期",
        "content" => "跟进内容",
        "met" => "见到的人",
        "findings" => "走访情况",
        "follow_up" => "后续事项",
        "special_record" => "跟进对象",
        "id_number" => "公民身份号码",
        "phone" => "联系电话",
        "relation" => "与户主关系",
        "ethnicity" => "民族",
        "political_status" => "政治面貌",
        "employment" => "就业状况",
        "moved_in" => "迁入日期",
        "residing_household" => "现居住户号",
        "registered_household" => "户籍户",
        "building" => "楼栋",
        "reason" => "原因",
        // Budget entries, staff, households' places, roles, the registry's dates.
        "name" => "名称",
        "year" => "年份",
        "page" => "页码",
        "limit" => "条数",
        "min" => "户数下限",
        "max" => "户数上限",
        "gap" => "间隙（米）",
        "amount_wan" => "投资额（万元）",
        "social_workers" => "招聘人数",
        "compound" => "小区",
        "person_name" => "姓名",
        "role" => "岗位",
        "grid" => "网格",
        "from" => "起始日期",
        "to" => "截止日期",
        "also_police_assistant" => "兼任警务助理",
        "grants" => "角色",
        "permission" => "权限",
        "code" => "编码",
        "valid_from" => "生效日期",
        "valid_to" => "撤销日期",
        // Households, compounds, buildings and communities.
        "address" => "地址",
        "number" => "户号",
        "household" => "迁入户户号",
        "households" => "户数",
        "population" => "人口",
        "place" => "迁入（出）地",
        "entrances" => "单元数",
        "floors" => "层数",
        "residential_area" => "住宅建筑面积",
        "has_property_management" => "有无物业",
        "property_company" => "物业服务企业",
        "geometry" => "边界",
        "tier" => "建设标准",
        "duties" => "职责",
        "centre_area" => "党群服务中心面积",
        "hall_area" => "议事厅面积",
        "centre_location" => "党群服务中心位置",
        "boundary_east" => "东至",
        "boundary_west" => "西至",
        "boundary_south" => "南至",
        "boundary_north" => "北至",
        "plan" => "方案",
        other => other,
    }
}

/// Field errors as a user reads them: "label：message；…", the field named in Chinese.
pub(crate) fn describe(f: &FieldErrors) -> String {
    describe_with(f, field_label)
}

/// [`describe`] with the labels of a form whose fields read otherwise.
pub(crate) fn describe_with(f: &FieldErrors, label: fn(&str) -> &str) -> String {
    f.iter()
        .map(|(k, v)| format!("{}：{v}", label(k)))
        .collect::<Vec<_>>()
        .join("；")
}
