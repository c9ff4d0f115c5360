//! `wangge`: serves the web UI and API, imports and exports the official tables, and runs the
//! benchmarks. Every subcommand that touches data takes `--data-dir` (SQLite, the default)
//! or `--database-url postgres://…`.

mod bench;

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
    /// Benchmarks; results go in BENCHMARKS.md.
    Bench {
        #[command(subcommand)]
        what: BenchWhat,
    },
}

#[derive(Subcommand)]
enum ImportTable {
    /// 附件2 社区基本情况表 (.xlsx, .xls or .csv in UTF-8 or GBK). All or nothing.
    Communities { file: PathBuf },
}

#[derive(Clone, Copy, ValueEnum)]
enum TableFormat {
    Xlsx,
    Csv,
}

#[derive(Subcommand)]
enum ExportTable {
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

#[derive(Subcommand)]
enum BenchWhat {
    /// Build a large registry and time the overview API and a community page.
    Registry(bench::RegistryArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("WANGGE_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
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
    match cli.command {
        Command::Serve {
            bind,
            demo,
            secure_cookies,
        } => {
            let store = Store::open(&opts).await.map_err(|e| e.to_string())?;
            if demo {
                load_demo(&store).await?;
            }
            admin(&store).await?;
            let app = wangge_web::router(wangge_web::AppState {
                store,
                secure_cookies,
            });
            let listener = tokio::net::TcpListener::bind(bind)
                .await
                .map_err(|e| format!("无法监听 {bind}：{e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            println!("wangge 已启动：http://{addr}/  （Ctrl-C 停止）");
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await
                .map_err(|e| e.to_string())
        }
        Command::Demo => {
            let store = Store::open(&opts).await.map_err(|e| e.to_string())?;
            load_demo(&store).await
        }
        Command::Import {
            table: ImportTable::Communities { file },
        } => {
            let store = Store::open(&opts).await.map_err(|e| e.to_string())?;
            let bytes = std::fs::read(&file)
                .map_err(|e| format!("无法读取文件 {}：{e}", file.display()))?;
            let name = file.display().to_string();
            let sheets = wangge_sheets::read(&name, &bytes).map_err(|e| e.to_string())?;
            let result = match wangge_domain::annex2::read(&sheets) {
                Ok(tables) => store
                    .import_annex2(&tables)
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
            let store = Store::open(&opts).await.map_err(|e| e.to_string())?;
            let tables = store.annex2_tables().await.map_err(|e| e.to_string())?;
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
    }
}

async fn load_demo(store: &Store) -> Result<(), String> {
    let loaded = store
        .load_county(&wangge_domain::demo::county(), true)
        .await
        .map_err(|e| e.to_string())?;
    if loaded {
        println!("已载入演示数据：昌乐县（宝都街道、宝城街道，22 个社区）");
    }
    Ok(())
}

async fn admin(store: &Store) -> Result<(), String> {
    let from_env = std::env::var("WANGGE_ADMIN_PASSWORD").ok();
    if let Some(password) = wangge_web::ensure_admin(store, from_env.as_deref()).await? {
        if from_env.is_some() {
            println!("已创建管理员账号 admin（密码取自 WANGGE_ADMIN_PASSWORD）");
        } else {
            println!("已创建管理员账号 admin，初始密码：{password}");
            println!("（只显示这一次，请妥善保存）");
        }
    }
    Ok(())
}
