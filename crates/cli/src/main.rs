//! `wangge`: serves the web UI and API, imports and exports the official tables, and runs the
//! benchmarks. Every subcommand that touches data takes `--data-dir` (SQLite, the default)
//! or `--database-url postgres://…`.

mod bench;
mod people;
mod plan;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use wangge_store::{DbOptions, Store};

#[derive(Parser)]
#[command(name = "wangge", version, about = "社区网格化服务管理")]
struct Cli {
    /// Where the embedded SQLite database lives (created on first start).
    #[arg(
        long,
        global = true,
        env = "WANGGE_DATA_DIR",
        default_value = "./wangge-data"
    )]
    data_dir: PathBuf,
    /// Use PostgreSQL instead, e.g. postgres://user@127.0.0.1:5432/wangge.
    #[arg(
        long,
        global = true,
        env = "WANGGE_DATABASE_URL",
        hide_env_values = true
    )]
    database_url: Option<String>,
    /// The data keys that encrypt ID and phone numbers (created, readable by the owner only,
    /// on first use); default `<data-dir>/data.key`. Keep a copy: without it the numbers are lost.
    #[arg(long, global = true, env = "WANGGE_KEY_FILE")]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web UI and the JSON API.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Load the demo county (昌乐县, 附件2) on start if the database is empty.
        #[arg(long)]
        demo: bool,
        /// Mark the session cookie Secure (when served behind HTTPS).
        #[arg(long, env = "WANGGE_SECURE_COOKIES")]
        secure_cookies: bool,
        /// A directory of the county's own policy files (*.toml, see policies/README.md),
        /// added to the shipped ones; each is checked at start.
        #[arg(long, env = "WANGGE_POLICIES")]
        policies: Option<PathBuf>,
    },
    /// Load the demo county into an empty database.
    Demo,
    /// Import an official table.
    Import {
        #[command(subcommand)]
        table: ImportTable,
    },
    /// Export an official table.
    Export {
        #[command(subcommand)]
        table: ExportTable,
    },
    /// Divide compounds into grids: GeoJSON in (features with `id` and `households`), a plan
    /// out (one feature per grid with `code`, `households`, `compounds`, `in_band`, `reason`).
    Plan(plan::PlanArgs),
    /// Budgets and the official cost tables (附件3, 附件4) of a year, from registry + policy.
    Budget {
        #[arg(long)]
        year: i32,
        /// A policy file (TOML); default: the shipped policy in force for the county.
        #[arg(long)]
        policy: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "xlsx")]
        format: BudgetFormat,
        /// CSV only: write GBK instead of UTF-8.
        #[arg(long)]
        gbk: bool,
        #[arg(long)]
        out: PathBuf,
    },
    /// Accounts: create, disable, enable, reset password, roles.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Data keys: `rotate` adds a key and re-encrypts every value under it.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Benchmarks; results go in BENCHMARKS.md.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand)]
enum ImportTable {
    /// 附件2 社区基本情况表 (.xlsx, .xls or .csv in UTF-8 or GBK). All or nothing.
    Communities {
        file: PathBuf,
        /// When the communities it creates started (YYYY-MM-DD; default today): not before
        /// their street's start.
        #[arg(long)]
        valid_from: Option<String>,
    },
    /// Households and residents (.xlsx, .xls or .csv in UTF-8 or GBK): every row checked
    /// (ID check digit, duplicates, unknown grid, dates). All or nothing.
    Residents { file: PathBuf },
}

#[derive(Clone, Copy, ValueEnum)]
enum TableFormat {
    Xlsx,
    Csv,
}

#[derive(Subcommand)]
enum ExportTable {
    /// Residents, masked, optionally of one grid (or community, street).
    Residents {
        #[arg(long)]
        grid: Option<String>,
        /// CSV in GBK instead of UTF-8.
        #[arg(long)]
        gbk: bool,
        #[arg(long)]
        out: PathBuf,
    },
    /// 附件2 社区基本情况表, one sheet per street.
    Communities {
        #[arg(long, value_enum, default_value = "xlsx")]
        format: TableFormat,
        /// CSV only: write GBK instead of UTF-8.
        #[arg(long)]
        gbk: bool,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum BudgetFormat {
    Xlsx,
    Csv,
    Json,
}

#[derive(Subcommand)]
enum UserAction {
    /// Create an account; prints a one-time password to change at first login.
    Create {
        username: String,
        #[arg(long)]
        name: Option<String>,
        /// Roles as role@scope, e.g. grid_worker@370725001001003 (repeatable).
        #[arg(long = "role")]
        roles: Vec<String>,
    },
    /// Disable an account (its sessions end at once).
    Disable { username: String },
    /// Enable a disabled or locked account.
    Enable { username: String },
    /// Reset the password to a one-time one, printed once.
    ResetPassword { username: String },
    /// Remove the second factor (a lost phone); the next login enrols a new one.
    ResetTotp { username: String },
    /// Replace the roles: role@scope ... (none removes all).
    Roles {
        username: String,
        roles: Vec<String>,
    },
    /// List accounts with their roles.
    List,
}

#[derive(Subcommand)]
enum KeysAction {
    Rotate,
}

#[derive(Subcommand)]
enum AuditAction {
    /// Check the hash chain; names the first broken row. Exit code 1 when broken.
    Verify,
}

#[derive(Subcommand)]
enum BenchWhat {
    /// Build a large registry and time the overview API and a community page.
    Registry(bench::RegistryArgs),
    /// Import generated residents (1,000,000 by default), then time look-ups by ID number, a
    /// grid's resident list and the people statistics of a grid, community, street and county
    /// (after an untimed warm-up of a tenth as many requests).
    People(people::BenchArgs),
    /// Plan generated towns of 300, 5,000 and 50,000 compounds at 500–600 and 200–300.
    Plan(plan::BenchArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WANGGE_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return command_line_error(e),
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("无法启动：{e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误：{e}");
            ExitCode::FAILURE
        }
    }
}

fn db_options(cli: &Cli) -> DbOptions {
    DbOptions {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let opts = db_options(&cli);
    let key_file = cli
        .key_file
        .clone()
        .unwrap_or_else(|| cli.data_dir.join("data.key"));
    match cli.command {
        Command::Serve {
            bind,
            demo,
            secure_cookies,
            policies,
        } => {
            let own = match &policies {
                Some(dir) => {
                    let own = wangge_web::budget::load_policies(dir)?;
                    for p in &own {
                        println!(
                            "已载入政策文件 {}（{} 自 {} 起）",
                            p.file(),
                            p.jurisdiction_name(),
                            p.effective_from()
                        );
                    }
                    own
                }
                None => Vec::new(),
            };
            let store = open_store(&opts, &key_file).await?;
            if demo && load_demo(&store).await? {
                let n = wangge_web::people::load_demo_residents(&store, 10).await?;
                println!("已生成演示居民 {n} 人（身份证号、电话为合成数据，已加密存储）");
            }
            admin(&store).await?;
            let state = wangge_web::AppState::new(store, secure_cookies).with_policies(own);
            if let Ok(Some(c)) = state.store.county().await
                && wangge_domain::policy::Policy::in_force(
                    &state.policies,
                    &c.code,
                    wangge_store::today(),
                )
                .is_none()
            {
                eprintln!(
                    "注意：本县（{} {}）没有现行的政策文件，预算、补贴和合规检查不可用，网格划分须手填户数区间；\
                     请以 --policies 目录 载入本县的政策文件（写法见 policies/README.md）",
                    c.code, c.name
                );
            }
            let app = wangge_web::router(state);
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .map_err(|e| format!("无法监听 {bind}：{e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            println!("wangge 已启动：http://{addr}/  （Ctrl-C 停止）");
            if !addr.ip().is_loopback() && !secure_cookies {
                eprintln!(
                    "注意：本服务可从其他机器访问，但未启用 --secure-cookies。登录凭据和居民信息不应以明文 HTTP 传输：请放在 HTTPS 反向代理之后，并加上 --secure-cookies（或设置 WANGGE_SECURE_COOKIES=true）。"
                );
            }
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| e.to_string())
        }
        Command::Demo => {
            let store = open_store(&opts, &key_file).await?;
            if load_demo(&store).await? {
                let n = wangge_web::people::load_demo_residents(&store, 10).await?;
                println!("已生成演示居民 {n} 人");
            }
            Ok(())
        }
        Command::Import {
            table: ImportTable::Communities { file, valid_from },
        } => {
            let since = match valid_from.as_deref() {
                Some(t) => Some(
                    wangge_domain::Date::parse(t)
                        .map_err(|_| format!("启用日期“{t}”无效，应为 YYYY-MM-DD"))?,
                ),
                None => None,
            };
            let store = open_store(&opts, &key_file).await?;
            let bytes = std::fs::read(&file)
                .map_err(|e| format!("无法读取文件 {}：{e}", file.display()))?;
            let name = file.display().to_string();
            let sheets = wangge_sheets::read(&name, &bytes).map_err(|e| e.to_string())?;
            let result = match wangge_domain::annex2::read(&sheets) {
                Ok(tables) => store
                    .import_annex2(&operator(&store).await?, &tables, since)
                    .await
                    .map_err(|e| e.to_string())?,
                Err(errors) => Err(errors),
            };
            match result {
                Ok(s) => {
                    println!(
                        "已导入 {name}：{} 个街道，新建 {} 个社区，更新 {} 个社区",
                        s.streets, s.created, s.updated
                    );
                    Ok(())
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{name}：{e}");
                    }
                    Err(format!("{name} 有 {} 处错误，未导入任何数据", errors.len()))
                }
            }
        }
        Command::Export {
            table: ExportTable::Communities { format, gbk, out },
        } => {
            let store = open_store(&opts, &key_file).await?;
            let tables = store
                .annex2_tables(&operator(&store).await?)
                .await
                .map_err(|e| e.to_string())?;
            let bytes = match format {
                TableFormat::Xlsx => wangge_sheets::annex2_xlsx(&tables),
                TableFormat::Csv => wangge_sheets::annex2_csv(&tables, gbk),
            }
            .map_err(|e| e.to_string())?;
            std::fs::write(&out, bytes).map_err(|e| format!("无法写入 {}：{e}", out.display()))?;
            println!("已导出 {}", out.display());
            Ok(())
        }
        Command::Bench {
            what: BenchWhat::Registry(args),
        } => bench::registry(&opts, args).await,
        Command::Plan(args) => plan::plan(args),
        Command::Import {
            table: ImportTable::Residents { file },
        } => {
            let store = open_store(&opts, &key_file).await?;
            let a =
                operator_with(&store, &[wangge_domain::access::Permission::PersonReveal]).await?;
            people::import(&store, &a, &file).await
        }
        Command::Export {
            table: ExportTable::Residents { grid, gbk, out },
        } => {
            let store = open_store(&opts, &key_file).await?;
            people::export(&store, &operator(&store).await?, grid.as_deref(), gbk, &out).await
        }
        Command::Keys {
            action: KeysAction::Rotate,
        } => people::rotate(&opts, &key_file).await,
        Command::Bench {
            what: BenchWhat::People(args),
        } => people::bench(&opts, args).await,
        Command::Budget {
            year,
            policy,
            format,
            gbk,
            out,
        } => {
            let store = open_store(&opts, &key_file).await?;
            budget(&store, year, policy, format, gbk, out).await
        }
        Command::Bench {
            what: BenchWhat::Plan(args),
        } => plan::bench(args),
        Command::User { action } => {
            let store = open_store(&opts, &key_file).await?;
            user(&store, action).await
        }
        Command::Audit {
            action: AuditAction::Verify,
        } => {
            let store = open_store(&opts, &key_file).await?;
            match store.verify_audit().await.map_err(|e| e.to_string())? {
                wangge_store::AuditCheck::Intact { rows } => {
                    println!("审计日志完整：共 {rows} 行，哈希链校验通过");
                    Ok(())
                }
                wangge_store::AuditCheck::Broken { seq, reason } => {
                    Err(format!("审计日志第 {seq} 行校验失败：{reason}"))
                }
            }
        }
    }
}

/// A command line clap cannot read, said in Chinese (help and version print as they are).
fn command_line_error(e: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let ctx = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(v)) => v.join("、"),
        _ => String::new(),
    };
    let (arg, value) = (ctx(ContextKind::InvalidArg), ctx(ContextKind::InvalidValue));
    let msg = match e.kind() {
        ErrorKind::UnknownArgument if arg.parse::<f64>().is_ok() => {
            format!("「{arg}」不是可用的值（户数、米数等不能为负）")
        }
        ErrorKind::UnknownArgument => format!("不认识的参数「{arg}」"),
        ErrorKind::MissingRequiredArgument => format!("缺少必需的参数：{arg}"),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            format!("参数 {arg} 的值「{value}」无效")
        }
        ErrorKind::InvalidSubcommand => {
            format!("没有这个命令「{}」", ctx(ContextKind::InvalidSubcommand))
        }
        ErrorKind::MissingSubcommand => "缺少命令".to_string(),
        ErrorKind::ArgumentConflict => format!("参数 {arg} 不能与其他参数同时使用"),
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues => {
            format!("参数 {arg} 的值的个数不对")
        }
        _ => "命令行有误".to_string(),
    };
    eprintln!("错误：{msg}。用 wangge --help（或 wangge 命令 --help）查看用法");
    ExitCode::from(2)
}

async fn load_demo(store: &Store) -> Result<bool, String> {
    let loaded = wangge_web::budget::load_demo(store).await?;
    if loaded {
        println!("已载入演示数据：昌乐县（宝都街道、宝城街道，22 个社区）");
    }
    Ok(loaded)
}

/// Opens the database with the data keys, creating the key file on first use.
async fn open_store(opts: &DbOptions, key_file: &std::path::Path) -> Result<Store, String> {
    let store = Store::open(opts).await.map_err(|e| e.to_string())?;
    Ok(store.with_keys(people::load_keys(key_file)?))
}

async fn admin(store: &Store) -> Result<(), String> {
    let from_env = std::env::var("WANGGE_ADMIN_PASSWORD").ok();
    let totp = std::env::var("WANGGE_ADMIN_TOTP_SECRET").ok();
    if let Some(password) =
        wangge_web::ensure_admin(store, from_env.as_deref(), totp.as_deref()).await?
    {
        if from_env.is_some() {
            println!("已创建管理员账号 admin（密码取自 WANGGE_ADMIN_PASSWORD）");
        } else {
            println!("已创建管理员账号 admin，初始密码：{password}");
            println!("（只显示这一次，请妥善保存）");
        }
    }
    Ok(())
}

async fn find_user(store: &Store, username: &str) -> Result<wangge_store::User, String> {
    store
        .user_by_name(username)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("没有账号“{username}”"))
}

/// The audit row of an account change made at the console (the operator is not a user).
async fn console_audit(store: &Store, action: &str, object: String) -> Result<(), String> {
    store
        .audit(&wangge_store::AuditEntry {
            user: "console".into(),
            roles: "operator".into(),
            action: format!("cli user {action}"),
            object,
            client: "cli".into(),
            result: "ok".into(),
        })
        .await
        .map_err(|e| e.to_string())
}

async fn user(store: &Store, action: UserAction) -> Result<(), String> {
    match action {
        UserAction::Create {
            username,
            name,
            roles,
        } => {
            let grants =
                wangge_web::admin::parse_grants(&roles.join("\n")).map_err(|e| e.message())?;
            // Roles that cannot be given (a place retired or not there) create nothing.
            store
                .check_grants(&grants)
                .await
                .map_err(|e| e.to_string())?;
            let password = wangge_web::one_time_password();
            let hash = wangge_web::hash_password(&password)?;
            let id = store
                .create_user(&username, name.as_deref(), &hash, true)
                .await
                .map_err(|e| e.to_string())?;
            store
                .set_reset_by(&id, "console")
                .await
                .map_err(|e| e.to_string())?;
            println!("已创建账号 {username}，一次性密码：{password}（首次登录后须修改）");
            console_audit(store, "create", format!("user:{username}")).await?;
            // The account exists now: a role refused leaves it without roles, said so.
            store.set_grants(&id, &grants).await.map_err(|e| {
                format!("账号已创建，但角色未设置：{e}（可用 wangge user roles {username} … 重设）")
            })?;
            console_audit(
                store,
                "roles",
                format!("user:{username} 无 → {}", roles.join(",")),
            )
            .await?;
            Ok(())
        }
        UserAction::Disable { username } => {
            let u = find_user(store, &username).await?;
            store
                .set_disabled(&u.id, true)
                .await
                .map_err(|e| e.to_string())?;
            println!("已停用 {username}");
            console_audit(store, "disable", format!("user:{username}")).await
        }
        UserAction::Enable { username } => {
            let u = find_user(store, &username).await?;
            store
                .set_disabled(&u.id, false)
                .await
                .map_err(|e| e.to_string())?;
            println!("已启用 {username}");
            console_audit(store, "enable", format!("user:{username}")).await
        }
        UserAction::ResetPassword { username } => {
            let u = find_user(store, &username).await?;
            let password = wangge_web::one_time_password();
            let hash = wangge_web::hash_password(&password)?;
            store
                .reset_password(&u.id, &hash, "console")
                .await
                .map_err(|e| e.to_string())?;
            println!("{username} 的一次性密码：{password}（首次登录后须修改）");
            if !u
                .grants
                .iter()
                .all(|g| wangge_domain::access::ADMIN_ROLES.contains(&g.role))
            {
                println!("查看完整证件号、电话暂停，待安全管理员在账号页核实本人后恢复");
            }
            console_audit(store, "reset-password", format!("user:{username}")).await
        }
        UserAction::ResetTotp { username } => {
            let u = find_user(store, &username).await?;
            store
                .reset_totp(&u.id, "console")
                .await
                .map_err(|e| e.to_string())?;
            println!("已清除 {username} 的两步验证（其登录已全部退出），下次登录时重新绑定");
            console_audit(store, "reset-totp", format!("user:{username}")).await
        }
        UserAction::Roles { username, roles } => {
            let u = find_user(store, &username).await?;
            let grants =
                wangge_web::admin::parse_grants(&roles.join("\n")).map_err(|e| e.message())?;
            store
                .set_grants(&u.id, &grants)
                .await
                .map_err(|e| e.to_string())?;
            store.end_sessions(&u.id).await.map_err(|e| e.to_string())?;
            println!("{username} 的角色：{}", roles.join(" "));
            console_audit(
                store,
                "roles",
                format!("user:{username} → {}", roles.join(",")),
            )
            .await
        }
        UserAction::List => {
            for u in store.users().await.map_err(|e| e.to_string())? {
                let roles: Vec<String> = u
                    .grants
                    .iter()
                    .map(|g| format!("{}@{}", g.role.key(), g.scope.key))
                    .collect();
                println!(
                    "{}\t{}\t{}",
                    u.username,
                    if u.disabled { "已停用" } else { "正常" },
                    roles.join(",")
                );
            }
            Ok(())
        }
    }
}

/// The command line acts for whoever holds the database: a county administrator of the
/// county it holds.
async fn operator(store: &Store) -> Result<wangge_domain::access::Access, String> {
    operator_with(store, &[]).await
}

/// The operator with more permissions than a county administrator's: importing people, he
/// is told of every number already registered (he holds the data key: there is nothing to
/// keep from him, and no daily limit to meet).
async fn operator_with(
    store: &Store,
    extra: &[wangge_domain::access::Permission],
) -> Result<wangge_domain::access::Access, String> {
    use wangge_domain::access::{Access, Grant, Role, Scope, ScopeKind, default_permissions};
    let county = store
        .county()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("数据库中尚未设置本县（区）")?;
    let grant = Grant::new(
        Role::CountyAdmin,
        Scope::parse(ScopeKind::County, &county.code)?,
    )?;
    let mut table = default_permissions();
    table.extend(extra.iter().map(|p| (Role::CountyAdmin, *p)));
    Ok(Access::new(vec![grant], &table))
}

async fn budget(
    store: &Store,
    year: i32,
    policy: Option<PathBuf>,
    format: BudgetFormat,
    gbk: bool,
    out: PathBuf,
) -> Result<(), String> {
    use wangge_domain::policy::{Policy, evaluate};
    let a = operator(store).await?;
    let snapshot = store.snapshot(&a, year).await.map_err(|e| e.to_string())?;
    let policy = match policy {
        Some(p) => wangge_web::budget::load_policy(&p)?,
        None => {
            let end = wangge_domain::Date::new(year, 12, 31).ok_or("年份无效")?;
            Policy::in_force(
                &wangge_web::budget::shipped_policies(),
                &snapshot.county_code,
                end,
            )
            .cloned()
            .ok_or_else(|| {
                format!(
                    "没有适用于 {} {year} 年的政策文件，请用 --policy 指定",
                    snapshot.county_code
                )
            })?
        }
    };
    let e = evaluate(&policy, &snapshot, year);
    let bytes = match format {
        BudgetFormat::Json => serde_json::to_vec_pretty(&e).map_err(|e| e.to_string())?,
        BudgetFormat::Xlsx => wangge_web::budget::workbook_bytes(&policy, &snapshot, &e, None)?,
        BudgetFormat::Csv => wangge_web::budget::workbook_bytes(&policy, &snapshot, &e, Some(gbk))?,
    };
    std::fs::write(&out, bytes).map_err(|e| format!("无法写入 {}：{e}", out.display()))?;
    let wan = wangge_domain::policy::tables::wan_text;
    println!(
        "{year} 年（{}）：网格 {} 个，网格工作人员 {} 名，补贴 {} 万元（实际新增 {} 万元），设备 {} 万元，社区经费 {} 万元；合规检查 {} 条。已写出 {}",
        policy.file(),
        e.subsidy.grids,
        e.subsidy.staff,
        wan(e.subsidy.year_fen),
        wan(e.subsidy.increase_fen),
        wan(e.subsidy.equipment_fen),
        wan(e.money.funds_fen),
        e.findings.len(),
        out.display()
    );
    Ok(())
}
