//! Residents on the command line: import (with a progress bar), masked export, key rotation,
//! and the people benchmark.

use std::path::Path;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use wangge_domain::access::Access;
use wangge_store::{DbOptions, Keyring, Store};

/// Reads the keyring, or creates one (owner-only) on first use.
pub fn load_keys(path: &Path) -> Result<Keyring, String> {
    if !path.exists() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("无法创建 {}：{e}", dir.display()))?;
        }
        write_private(path, &Keyring::generate())?;
        eprintln!("已生成数据密钥 {}，请另行妥善备份", path.display());
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("无法读取密钥文件 {}：{e}", path.display()))?;
    Keyring::parse(&path.display().to_string(), &text)
}

fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o
        .open(path)
        .map_err(|e| format!("无法写入密钥文件 {}：{e}", path.display()))?;
    f.write_all(text.as_bytes()).map_err(|e| e.to_string())
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}} {{elapsed}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b
}

pub async fn import(store: &Store, a: &Access, file: &Path) -> Result<(), String> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| format!("无法读取文件 {name}：{e}"))?;
    let sheets = wangge_sheets::read(&name, &bytes).map_err(|e| e.to_string())?;
    let rows = match wangge_domain::people::import::read(&sheets, wangge_store::today()) {
        Ok(rows) => rows,
        Err(errors) => {
            for e in &errors {
                eprintln!("{name}：{e}");
            }
            return Err(format!("{name} 有 {} 处错误，未导入任何数据", errors.len()));
        }
    };
    let b = bar(rows.len() as u64, "导入居民");
    let result = store
        .import_residents(a, "console", &rows, &|done, total| {
            b.set_length(total as u64);
            b.set_position(done as u64);
        })
        .await
        .map_err(|e| e.to_string())?;
    b.finish_and_clear();
    match result {
        Ok(n) => {
            println!("已导入 {name}：{n} 名居民");
            Ok(())
        }
        Err(errors) => {
            for (i, column, msg) in &errors {
                let col = wangge_domain::people::import::Column::ALL
                    .iter()
                    .copied()
                    .find(|c| c.header() == *column);
                let e =
                    wangge_domain::people::import::cell_error(&sheets, &rows[*i], col, msg.clone());
                eprintln!("{name}：{e}");
            }
            Err(format!("{name} 有 {} 处错误，未导入任何数据", errors.len()))
        }
    }
}

pub async fn export(
    store: &Store,
    a: &Access,
    grid: Option<&str>,
    gbk: bool,
    out: &Path,
) -> Result<(), String> {
    let rows = store
        .export_residents(a, grid)
        .await
        .map_err(|e| e.to_string())?;
    let n = rows.len();
    let table = wangge_web::people::residents_table(rows);
    let bytes = wangge_sheets::write_csv(&table, gbk).map_err(|e| e.to_string())?;
    std::fs::write(out, bytes).map_err(|e| format!("无法写入 {}：{e}", out.display()))?;
    println!(
        "已导出 {} 名居民（证件号、电话已脱敏）到 {}",
        n,
        out.display()
    );
    Ok(())
}

/// Adds a key to the keyring file and re-encrypts every value under it.
pub async fn rotate(opts: &DbOptions, key_file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(key_file)
        .map_err(|e| format!("无法读取密钥文件 {}：{e}", key_file.display()))?;
    let rotated = Keyring::rotated(&text)?;
    let ring = Keyring::parse(&key_file.display().to_string(), &rotated)?;
    let store = Store::open(opts)
        .await
        .map_err(|e| e.to_string())?
        .with_keys(ring.clone());
    // Write the new keyring first: values re-encrypted under a key that was not saved would
    // be lost.
    write_private(key_file, &rotated)?;
    let n = store.rotate_keys().await.map_err(|e| e.to_string())?;
    println!("已启用新密钥 {}，重新加密 {n} 条记录", ring.current_id());
    Ok(())
}

#[derive(Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 1_000_000)]
    residents: usize,
    /// Look-ups timed per kind.
    #[arg(long, default_value_t = 500)]
    requests: usize,
}

fn p(sorted: &[Duration], q: f64) -> String {
    let i = ((sorted.len().max(1) - 1) as f64 * q).round() as usize;
    format!(
        "{:.2} ms",
        sorted.get(i).copied().unwrap_or_default().as_secs_f64() * 1000.0
    )
}

/// Residents go into a synthetic county of 700 grids (5 streets × 14 communities × 10 grids),
/// about 1,430 people a grid — what 500–600 households a grid means at 2.6 people a household.
pub async fn bench(opts: &DbOptions, a: BenchArgs) -> Result<(), String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (bench_opts, scratch) = crate::bench::fresh_database(opts, tmp.path()).await?;
    let result = run(&bench_opts, &a).await;
    if let Some((url, name)) = scratch {
        let _ = wangge_store::scratch::drop(&url, &name).await;
    }
    result
}

async fn run(opts: &DbOptions, a: &BenchArgs) -> Result<(), String> {
    let ring = Keyring::parse("bench", &Keyring::generate())?;
    let store = Store::open(opts)
        .await
        .map_err(|e| e.to_string())?
        .with_keys(ring);
    let county = wangge_domain::demo::synthetic(5, 14, 10, 10);
    store
        .load_county(&county, false)
        .await
        .map_err(|e| e.to_string())?;
    // The console holds the data key: it may reveal (and so meets no daily limit).
    let access =
        crate::operator_with(&store, &[wangge_domain::access::Permission::PersonReveal]).await?;
    let o = store.overview(&access).await.map_err(|e| e.to_string())?;
    let mut grids = Vec::new();
    let mut a_compound = None;
    for st in &o.streets {
        for c in &st.communities {
            let page = store
                .community_page(&access, &c.code)
                .await
                .map_err(|e| e.to_string())?;
            grids.extend(page.grids.into_iter().map(|g| g.code));
            if a_compound.is_none() {
                a_compound = page.compounds.first().map(|m| m.id.clone());
            }
        }
    }
    let t = Instant::now();
    let rows = wangge_web::people::synth_rows(7, a.residents, &grids, wangge_store::today());
    let generated = t.elapsed();
    let b = bar(rows.len() as u64, "导入居民");
    let t = Instant::now();
    let result = store
        .import_residents(&access, "bench", &rows, &|done, total| {
            b.set_length(total as u64);
            b.set_position(done as u64);
        })
        .await
        .map_err(|e| e.to_string())?;
    b.finish_and_clear();
    let import = t.elapsed();
    result.map_err(|e| format!("导入失败：{}", e[0].2))?;
    println!(
        "数据库：{:?}；生成 {} 名居民 {:.1} s；导入（校验、加密、盲索引、写入）{:.1} s",
        store.backend(),
        rows.len(),
        generated.as_secs_f64(),
        import.as_secs_f64()
    );
    // A warm-up of a tenth as many requests, untimed, as `wangge bench registry` does.
    for i in 0..(a.requests / 10).max(1) {
        let who = &rows[(i * 104_729) % rows.len()];
        store
            .find_by_id_number(&access, "console", &who.id_number)
            .await
            .map_err(|e| e.to_string())?;
        let g = &grids[(i * 17) % grids.len()];
        store
            .grid_residents(&access, g, 0)
            .await
            .map_err(|e| e.to_string())?;
        store
            .people_stats(&access, g)
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut lookups = Vec::new();
    for i in 0..a.requests {
        let who = &rows[(i * 7919) % rows.len()];
        let t = Instant::now();
        let found = store
            .find_by_id_number(&access, "console", &who.id_number)
            .await
            .map_err(|e| e.to_string())?;
        lookups.push(t.elapsed());
        if found.len() != 1 {
            return Err("按证件号查找结果不对".into());
        }
    }
    lookups.sort();
    let mut lists = Vec::new();
    let mut people = 0;
    for i in 0..a.requests.min(100) {
        let g = &grids[(i * 31) % grids.len()];
        let t = Instant::now();
        people = store
            .grid_residents(&access, g, 0)
            .await
            .map_err(|e| e.to_string())?
            .len();
        lists.push(t.elapsed());
    }
    lists.sort();
    // The grid page's statistics (age bands, sex, registered/residing, special groups,
    // visits this month), and a community's with its grids.
    let mut grid_stats = Vec::new();
    let mut community_stats = Vec::new();
    for i in 0..a.requests.min(100) {
        let g = &grids[(i * 31) % grids.len()];
        let t = Instant::now();
        store
            .people_stats(&access, g)
            .await
            .map_err(|e| e.to_string())?;
        grid_stats.push(t.elapsed());
        let t = Instant::now();
        store
            .people_stats(&access, &g[..12])
            .await
            .map_err(|e| e.to_string())?;
        community_stats.push(t.elapsed());
    }
    grid_stats.sort();
    community_stats.sort();
    // The street and county pages: every person of the street (~200,000) or county.
    let mut street_stats = Vec::new();
    let mut county_stats = Vec::new();
    for i in 0..5 {
        let g = &grids[(i * 131) % grids.len()];
        let t = Instant::now();
        store
            .people_stats(&access, &g[..9])
            .await
            .map_err(|e| e.to_string())?;
        street_stats.push(t.elapsed());
        let t = Instant::now();
        store
            .people_stats(&access, &g[..6])
            .await
            .map_err(|e| e.to_string())?;
        county_stats.push(t.elapsed());
    }
    street_stats.sort();
    county_stats.sort();
    // A household registered in one street: the county's figures recount that street only.
    let mut after_change = Vec::new();
    if let Some(m) = &a_compound {
        for i in 0..3 {
            let h = wangge_domain::people::input::HouseholdInput {
                kind: wangge_domain::people::HouseholdKind::Registered,
                number: None,
                building: None,
                compound: Some(m.clone()),
                address: Some(format!("测试{i}号")),
                head: None,
            };
            store
                .add_household(&access, m, &h)
                .await
                .map_err(|e| e.to_string())?;
            let t = Instant::now();
            store
                .people_stats(&access, &grids[0][..6])
                .await
                .map_err(|e| e.to_string())?;
            after_change.push(t.elapsed());
        }
        after_change.sort();
    }
    println!("| 操作 | 次数 | p50 | p99 |");
    println!("|---|---:|---:|---:|");
    println!(
        "| 按证件号查找（盲索引） | {} | {} | {} |",
        lookups.len(),
        p(&lookups, 0.5),
        p(&lookups, 0.99)
    );
    println!(
        "| 网格居民列表首页（{people} 人一页，网格约 1,430 人，已脱敏） | {} | {} | {} |",
        lists.len(),
        p(&lists, 0.5),
        p(&lists, 0.99)
    );
    println!(
        "| 网格人口统计（年龄段、性别、户籍/居住、特殊人群、本月走访） | {} | {} | {} |",
        grid_stats.len(),
        p(&grid_stats, 0.5),
        p(&grid_stats, 0.99)
    );
    println!(
        "| 社区人口统计（约 14,300 人，按网格分项） | {} | {} | {} |",
        community_stats.len(),
        p(&community_stats, 0.5),
        p(&community_stats, 0.99)
    );
    println!(
        "| 街道人口统计（约 20 万人，按社区分项） | {} | {} | {} |",
        street_stats.len(),
        p(&street_stats, 0.5),
        p(&street_stats, 0.99)
    );
    println!(
        "| 全县人口统计（{} 人，按街道分项） | {} | {} | {} |",
        rows.len(),
        county_stats.len(),
        p(&county_stats, 0.5),
        p(&county_stats, 0.99)
    );
    if !after_change.is_empty() {
        println!(
            "| 全县人口统计，一个街道登记新户之后（只重算该街道） | {} | {} | {} |",
            after_change.len(),
            p(&after_change, 0.5),
            p(&after_change, 0.99)
        );
    }
    Ok(())
}
