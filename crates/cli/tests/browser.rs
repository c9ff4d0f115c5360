//! A person's first visit, in headless Chromium driven over WebDriver: the real binary serves
//! the demo county; the browser logs in, reads the overview, opens a community.
//!
//! Needs Debian's `chromium` and `chromium-driver` (.ci/run installs them). Set
//! WANGGE_SKIP_BROWSER=1 to skip on a machine without them; otherwise their absence fails.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::Db;
use serde_json::{Value, json};

/// The administrator's second factor, as WANGGE_ADMIN_TOTP_SECRET sets it.
const TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn wait_for(url: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if let Ok(r) = agent().get(url).call()
            && r.status() == 200
        {
            return;
        }
        sleep(Duration::from_millis(200));
    }
    panic!("{url} did not come up");
}

struct WebDriver {
    base: String,
    session: String,
}

impl WebDriver {
    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let v = self.try_call(method, path, body);
        assert!(v["value"].get("error").is_none(), "{method} {path}: {v}");
        v["value"].clone()
    }

    /// The whole answer, errors included (an element may go stale while a page loads).
    fn try_call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut res = match method {
            "GET" => agent().get(&url).call(),
            "DELETE" => agent().delete(&url).call(),
            _ => agent().post(&url).send_json(&body),
        }
        .unwrap();
        res.body_mut().read_json().unwrap()
    }

    fn find(&self, using: &str, value: &str) -> String {
        let v = self.call("POST", "/element", json!({"using": using, "value": value}));
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .unwrap()
            .to_string()
    }

    /// Waits (up to 15 s) for a navigation that a click started: until `f` holds of the
    /// page's title and text. Returns the page's text.
    fn wait_page(&self, f: impl Fn(&str, &str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let title = self.try_call("GET", "/title", json!({}));
            let title = title["value"].as_str().unwrap_or("").to_string();
            let body = self.try_call(
                "POST",
                "/element",
                json!({"using": "css selector", "value": "body"}),
            );
            // While the page changes, the answer may be an error ("no such element"), whose
            // first value is not an element id.
            let text = body["value"]
                .as_object()
                .filter(|o| !o.contains_key("error"))
                .and_then(|o| o.values().next())
                .and_then(|id| id.as_str())
                .map(|id| self.try_call("GET", &format!("/element/{id}/text"), json!({})))
                .and_then(|t| t["value"].as_str().map(str::to_string))
                .unwrap_or_default();
            if f(&title, &text) || start.elapsed() > Duration::from_secs(15) {
                return text;
            }
            sleep(Duration::from_millis(100));
        }
    }
}

/// Saves what the browser shows (base64 PNG from WebDriver) for a person to look at.
fn screenshot(wd: &WebDriver, name: &str) {
    let b64 = wd.call("GET", "/screenshot", json!({}));
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.png.b64"));
    let _ = std::fs::write(path, b64.as_str().unwrap_or(""));
}

#[test]
fn a_person_logs_in_and_reads_the_demo_county() {
    if std::env::var("WANGGE_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("WANGGE_SKIP_BROWSER=1: browser test skipped");
        return;
    }
    for bin in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            std::path::Path::new(bin).exists(),
            "{bin} is missing: apt-get install chromium chromium-driver (or WANGGE_SKIP_BROWSER=1)"
        );
    }
    let db = Db::new();
    let port = free_port();
    let _server = Kill(
        db.command()
            .args(["serve", "--demo", "--bind", &format!("127.0.0.1:{port}")])
            .env("WANGGE_ADMIN_PASSWORD", "browser-pass-1")
            .env("WANGGE_ADMIN_TOTP_SECRET", TOTP)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let site = format!("http://127.0.0.1:{port}");
    wait_for(&format!("{site}/healthz"));

    let driver_port = free_port();
    let _driver = Kill(
        Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{driver_port}");
    wait_for(&format!("{base}/status"));
    let profile = db.path("chrome-profile");
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", format!("--user-data-dir={}", profile.display())]
        }
    }}});
    let mut res = agent()
        .post(&format!("{base}/session"))
        .send_json(&caps)
        .unwrap();
    let v: Value = res.body_mut().read_json().unwrap();
    let session = v["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {v}"))
        .to_string();
    let wd = WebDriver { base, session };

    // Not logged in: the overview sends the person to the login form.
    wd.call("POST", "/url", json!({"url": format!("{site}/")}));
    let url = wd.call("GET", "/url", json!({}));
    assert!(url.as_str().unwrap().ends_with("/login"), "{url}");
    let user = wd.find("css selector", "#username");
    wd.call(
        "POST",
        &format!("/element/{user}/value"),
        json!({"text": "admin"}),
    );
    let pass = wd.find("css selector", "#password");
    wd.call(
        "POST",
        &format!("/element/{pass}/value"),
        json!({"text": "browser-pass-1"}),
    );
    let raw = wangge_web::totp::base32_decode(TOTP).unwrap();
    let code = wangge_web::totp::code_at(&raw, wangge_store::now_secs());
    let totp = wd.find("css selector", "#totp");
    wd.call(
        "POST",
        &format!("/element/{totp}/value"),
        json!({"text": code}),
    );
    let submit = wd.find("css selector", "button[type=submit]");
    wd.call("POST", &format!("/element/{submit}/click"), json!({}));

    // The overview: the county, both streets, 附件2's figures, the placeholder note.
    let text = wd.wait_page(|title, _| title == "昌乐县总览 · 网格化服务管理");
    let title = wd.call("GET", "/title", json!({}));
    assert_eq!(title, "昌乐县总览 · 网格化服务管理");
    for s in [
        "昌乐县",
        "宝都街道",
        "宝城街道",
        "宝昌社区",
        "98161",
        "343567",
        "4350",
        "15225",
        "占位代码",
    ] {
        assert!(text.contains(s), "the overview should show {s}:\n{text}");
    }

    screenshot(&wd, "overview");

    // One community: its grids, compounds, service centre and boundaries.
    let link = wd.find("link text", "宝昌社区");
    wd.call("POST", &format!("/element/{link}/click"), json!({}));
    let text = wd.wait_page(|title, _| title.starts_with("宝昌社区"));
    for s in [
        "宝昌社区",
        "车站村委",
        "东至",
        "车站村东",
        "南至",
        "铁路线",
        "宝昌第1网格",
        "网格（9）",
        "小区及村庄（10）",
    ] {
        assert!(
            text.contains(s),
            "the community page should show {s}:\n{text}"
        );
    }
    screenshot(&wd, "community");
    let crumbs = wd.find("css selector", "nav.crumbs");
    let crumb_text = wd.call("GET", &format!("/element/{crumbs}/text"), json!({}));
    assert!(
        crumb_text.as_str().unwrap().contains("总览 › 宝都街道"),
        "{crumb_text}"
    );
    // The grid plan of the community, as maps, and the budget.
    wd.call(
        "POST",
        "/url",
        json!({"url": format!("{site}/plan/communities/370725001001")}),
    );
    let text = wd.wait_page(|title, _| title.contains("网格划分方案"));
    assert!(
        text.contains("现有网格") && text.contains("方案网格"),
        "{text}"
    );
    screenshot(&wd, "plan");
    wd.call(
        "POST",
        "/url",
        json!({"url": format!("{site}/budget?year=2021")}),
    );
    let text = wd.wait_page(|title, _| title.contains("预算与合规"));
    assert!(text.contains("196.2"), "{text}");
    screenshot(&wd, "budget");

    // A grid worker on a phone: from his grid to a household, records a visit.
    let out = db.run(&[
        "user",
        "create",
        "wang_grid",
        "--role",
        "grid_worker@370725001001001",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    let password = printed
        .split("一次性密码：")
        .nth(1)
        .and_then(|s| s.split('（').next())
        .unwrap()
        .trim()
        .to_string();
    let logout = wd.find("css selector", "form.logout button");
    wd.call("POST", &format!("/element/{logout}/click"), json!({}));
    wd.wait_page(|title, _| title.contains("登录"));
    wd.call("POST", "/window/rect", json!({"width": 390, "height": 844}));
    for (field, value) in [("#username", "wang_grid"), ("#password", password.as_str())] {
        let e = wd.find("css selector", field);
        wd.call(
            "POST",
            &format!("/element/{e}/value"),
            json!({"text": value}),
        );
    }
    let submit = wd.find("css selector", "button[type=submit]");
    wd.call("POST", &format!("/element/{submit}/click"), json!({}));
    // A one-time password is changed before anything else.
    wd.wait_page(|title, _| title.contains("修改密码"));
    for (field, value) in [
        ("#current", password.as_str()),
        ("#new", "Wang-grid-2026!"),
        ("#again", "Wang-grid-2026!"),
    ] {
        let e = wd.find("css selector", field);
        wd.call(
            "POST",
            &format!("/element/{e}/value"),
            json!({"text": value}),
        );
    }
    let change = wd.find("css selector", "section.card button[type=submit]");
    wd.call("POST", &format!("/element/{change}/click"), json!({}));
    wd.wait_page(|_, text| text.contains("密码已修改"));
    wd.call(
        "POST",
        "/url",
        json!({"url": format!("{site}/grids/370725001001001")}),
    );
    let text = wd.wait_page(|_, text| text.contains("人口与走访"));
    assert!(text.contains("本月走访"), "{text}");
    let household = wd.find("css selector", "td a[href^='/households/']");
    wd.call("POST", &format!("/element/{household}/click"), json!({}));
    wd.wait_page(|title, _| title.starts_with("户 "));
    let visit = wd.find("link text", "记录走访");
    wd.call("POST", &format!("/element/{visit}/click"), json!({}));
    wd.wait_page(|title, _| title.starts_with("走访"));
    let findings = wd.find("css selector", "#findings");
    let rect = wd.call("GET", &format!("/element/{findings}/rect"), json!({}));
    assert!(
        rect["width"].as_f64().unwrap() <= 390.0,
        "the visit form fits a phone: {rect}"
    );
    let met = wd.find("css selector", "#met");
    wd.call(
        "POST",
        &format!("/element/{met}/value"),
        json!({"text": "户主本人"}),
    );
    wd.call(
        "POST",
        &format!("/element/{findings}/value"),
        json!({"text": "楼道堆放杂物，已提醒清理"}),
    );
    let save = wd.find("css selector", "button.wide");
    wd.call("POST", &format!("/element/{save}/click"), json!({}));
    let text = wd.wait_page(|_, text| text.contains("已保存"));
    assert!(text.contains("已保存"), "{text}");
    screenshot(&wd, "visit-phone");
    wd.call("DELETE", "", json!({}));
}
