//! `wangge bench registry`: a county of 50 streets, 2,000 communities, 20,000 grids and
//! 200,000 compounds; load time, then p50 / p99 latency of the overview API and of a
//! community page, over real HTTP on the loopback, one request at a time.

use std::time::{Duration, Instant};

use clap::Args;
use wangge_store::{DbOptions, Store};

#[derive(Args)]
pub struct RegistryArgs {
    #[arg(long, default_value_t = 50)]
    streets: usize,
    #[arg(long, default_value_t = 2000)]
    communities: usize,
    #[arg(long, default_value_t = 20_000)]
    grids: usize,
    #[arg(long, default_value_t = 200_000)]
    compounds: usize,
    /// Requests timed per endpoint (after a warm-up of a tenth as many).
    #[arg(long, default_value_t = 300)]
    requests: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub async fn registry(opts: &DbOptions, a: RegistryArgs) -> Result<(), String> {
    let per_street = (a.communities / a.streets.max(1)).max(1);
    let per_community_grids = (a.grids / a.communities.max(1)).max(1);
    let per_community_compounds = (a.compounds / a.communities.max(1)).max(1);
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (bench_opts, scratch) = fresh_database(opts, tmp.path()).await?;
    let result = run(
        &bench_opts,
        &a,
        per_street,
        per_community_grids,
        per_community_compounds,
    )
    .await;
    if let Some((url, name)) = scratch
        && let Err(e) = wangge_store::scratch::drop(&url, &name).await
    {
        eprintln!("无法删除临时数据库 {name}：{e}");
    }
    result
}

async fn run(
    opts: &DbOptions,
    a: &RegistryArgs,
    per_street: usize,
    grids: usize,
    compounds: usize,
) -> Result<(), String> {
    let store = Store::open(opts).await.map_err(|e| e.to_string())?;
    let county = wangge_domain::demo::synthetic(a.streets, per_street, grids, compounds);
    let t = Instant::now();
    store
        .load_county(&county, false)
        .await
        .map_err(|e| e.to_string())?;
    let load = t.elapsed();
    let n_communities = a.streets * per_street;
    println!(
        "数据库：{:?}；载入 {} 街道、{} 社区、{} 网格、{} 小区：{:.1} s",
        store.backend(),
        a.streets,
        n_communities,
        n_communities * grids,
        n_communities * compounds,
        load.as_secs_f64()
    );
    let everything = wangge_domain::access::Access::new(
        vec![wangge_domain::access::Grant::new(
            wangge_domain::access::Role::Observer,
            wangge_domain::access::Scope::parse(
                wangge_domain::access::ScopeKind::County,
                wangge_domain::demo::COUNTY_CODE,
            )?,
        )?],
        &wangge_domain::access::default_permissions(),
    );
    let t = Instant::now();
    let o = store
        .overview(&everything)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "总览首次读取（无缓存，{} 个社区）：{:.1} ms",
        o.streets.iter().map(|s| s.communities.len()).sum::<usize>(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    let password = "bench-password-1";
    wangge_web::ensure_admin(&store, Some(password), None).await?;
    // The benchmark measures reads, as an observer of the whole county would make them
    // (the administrator's roles would ask for a second factor).
    let admin = store
        .user_by_name("admin")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no admin")?;
    let observer = wangge_domain::access::Grant::new(
        wangge_domain::access::Role::Observer,
        wangge_domain::access::Scope::parse(
            wangge_domain::access::ScopeKind::County,
            wangge_domain::demo::COUNTY_CODE,
        )?,
    )?;
    store
        .set_grants(&admin.id, &[observer])
        .await
        .map_err(|e| e.to_string())?;
    let app = wangge_web::router(wangge_web::AppState::new(store, false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let requests = a.requests.max(1);
    let community = county.streets[a.streets / 2].communities[per_street / 2]
        .code
        .to_string();
    let report =
        tokio::task::spawn_blocking(move || -> Result<Vec<(String, Vec<Duration>)>, String> {
            let base = format!("http://{addr}");
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .max_redirects(0)
                .http_status_as_error(false)
                .build()
                .into();
            let res = agent
                .post(&format!("{base}/login"))
                .send_form([("username", "admin"), ("password", password)])
                .map_err(|e| e.to_string())?;
            let cookie = res
                .headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .ok_or("登录失败")?
                .to_string();
            let mut out = Vec::new();
            for (label, path) in [
                ("总览 API /api/overview", "/api/overview".to_string()),
                (
                    "社区页 /communities/{code}",
                    format!("/communities/{community}"),
                ),
            ] {
                let mut times = Vec::with_capacity(requests);
                for i in 0..requests + requests / 10 {
                    let t = Instant::now();
                    let mut res = agent
                        .get(&format!("{base}{path}"))
                        .header("cookie", &cookie)
                        .call()
                        .map_err(|e| e.to_string())?;
                    let body = res.body_mut().read_to_vec().map_err(|e| e.to_string())?;
                    if res.status() != 200 || body.is_empty() {
                        return Err(format!("{path} 返回 {}", res.status()));
                    }
                    if i >= requests / 10 {
                        times.push(t.elapsed());
                    }
                }
                times.sort();
                out.push((label.to_string(), times));
            }
            Ok(out)
        })
        .await
        .map_err(|e| e.to_string())??;
    println!("| 请求 | 次数 | p50 | p99 | 最大 |");
    println!("|---|---:|---:|---:|---:|");
    for (label, times) in report {
        println!(
            "| {label} | {} | {} | {} | {} |",
            times.len(),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(*times.last().unwrap_or(&Duration::ZERO))
        );
    }
    Ok(())
}

/// A fresh database for a benchmark, never the user's: SQLite in `dir`, or a scratch
/// PostgreSQL database on the same server (returned for dropping afterwards).
pub async fn fresh_database(
    opts: &DbOptions,
    dir: &std::path::Path,
) -> Result<(DbOptions, Option<(String, String)>), String> {
    Ok(match &opts.database_url {
        Some(url) => {
            let (u, name) = wangge_store::scratch::create(url, "wangge_bench")
                .await
                .map_err(|e| e.to_string())?;
            (
                DbOptions {
                    data_dir: dir.into(),
                    database_url: Some(u),
                },
                Some((url.clone(), name)),
            )
        }
        None => (
            DbOptions {
                data_dir: dir.into(),
                database_url: None,
            },
            None,
        ),
    })
}
