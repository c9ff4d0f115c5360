//! The real `wangge` binary against a real database: a temporary SQLite directory, or a scratch
//! PostgreSQL database when WANGGE_TEST_DATABASE_URL is set.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub struct Db {
    pub dir: tempfile::TempDir,
    pub url: Option<String>,
    scratch: Option<(String, String)>,
}

impl Db {
    pub fn new() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let (url, scratch) = match std::env::var("WANGGE_TEST_DATABASE_URL") {
            Ok(base) if !base.is_empty() => {
                let rt = tokio::runtime::Runtime::new().unwrap();
                let (url, name) = rt
                    .block_on(wangge_store::scratch::create(&base, "wangge_clitest"))
                    .unwrap();
                (Some(url), Some((base, name)))
            }
            _ => (None, None),
        };
        Db { dir, url, scratch }
    }

    /// `wangge` with this database's options.
    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wangge"));
        c.arg("--data-dir").arg(self.dir.path());
        if let Some(u) = &self.url {
            c.arg("--database-url").arg(u);
        }
        c.env_remove("WANGGE_DATABASE_URL")
            .env_remove("WANGGE_DATA_DIR");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some((base, name)) = self.scratch.take()
            && let Ok(rt) = tokio::runtime::Runtime::new()
        {
            let _ = rt.block_on(wangge_store::scratch::drop(&base, &name));
        }
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
