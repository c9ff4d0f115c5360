//! Households and residents. ID and phone numbers are stored only encrypted (see `keys.rs`)
//! with a blind index for exact search; every read is masked unless the caller reveals, and
//! every read and write is checked against the user's scope.

use std::collections::HashMap;

use sea_orm::{TransactionTrait, Value};
use serde::Serialize;
use wangge_domain::access::{Access, Permission};
use wangge_domain::people::import::ResidentRow;
use wangge_domain::people::{HouseholdKind, IdNumber};

use crate::db::{all, exec, get, one, scalar_i64};
use crate::keys::Keyring;
use crate::{Result, Store, StoreError, new_id, today};

/// A resident as pages and the API show them: masked.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidentView {
    pub id: String,
    pub household_id: String,
    pub household: String,
    pub household_kind: String,
    pub grid_code: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub age: i64,
    pub id_number_masked: String,
    pub phone_masked: Option<String>,
    pub relation: Option<String>,
    pub ethnicity: Option<String>,
    pub political_status: Option<String>,
    pub employment: Option<String>,
    pub moved_in: Option<String>,
    /// 人户分离: the grid of the household lived in, when not the own household's.
    pub living_grid_code: Option<String>,
    /// When the person moved out or died (nothing is deleted).
    pub left: Option<String>,
}

impl ResidentView {
    /// Whether the user may do `p` for this person: on the own household's grid, or on the
    /// grid he lives in.
    pub fn can(&self, a: &Access, p: Permission) -> bool {
        a.can(p, &self.grid_code)
            || self
                .living_grid_code
                .as_deref()
                .is_some_and(|g| a.can(p, g))
    }
}

/// What a reveal shows, once.
#[derive(Debug, Clone, Serialize)]
pub struct Revealed {
    pub id_number: String,
    pub phone: Option<String>,
}

pub(crate) const RESIDENT_COLUMNS: &str = "r.id, r.household_id, h.number, h.kind, r.grid_code, r.name, r.sex, \
     r.birth_date, r.id_masked, r.phone_masked, r.relation, r.ethnicity, r.political_status, r.employment, \
     r.moved_in, r.living_grid_code, r.valid_to";

pub(crate) fn age_on(birth: &str, on: &str) -> i64 {
    let y = |s: &str| s.get(..4).and_then(|x| x.parse::<i64>().ok()).unwrap_or(0);
    let md = |s: &str| s.get(5..10).unwrap_or("").to_string();
    let mut age = y(on) - y(birth);
    if md(on) < md(birth) {
        age -= 1;
    }
    age.max(0)
}

/// How many ID numbers a day a user may be told are registered where he may not reveal them.
pub const ELSEWHERE_PER_DAY: i64 = 20;
/// The audit action of such an answer (one row per number answered, one per request refused).
pub const ELSEWHERE_ACTION: &str = "id-elsewhere";

/// A date shown without its month and day (`1996-**-**`): a birth date, or any date equal to
/// it, for a reader who may not reveal (with the region digits and the sex it would narrow the
/// ID number to a few hundred candidates).
pub(crate) fn mask_day(d: &str) -> String {
    format!("{}-**-**", d.get(..4).unwrap_or("****"))
}

impl Store {
    /// The data keys; people cannot be stored or read without them.
    pub fn with_keys(mut self, keys: Keyring) -> Store {
        self.keys = Some(std::sync::Arc::new(keys));
        self
    }

    pub(crate) fn keyring(&self) -> Result<&Keyring> {
        self.keys.as_deref().ok_or_else(|| {
            StoreError::Config("未配置数据密钥（WANGGE_KEY_FILE），无法处理人员信息".into())
        })
    }

    /// A resident row as shown to this user: the masked forms were made when the numbers were
    /// stored, so lists need no decryption. The birth date is shown in full only to a user who
    /// may reveal the resident's numbers: with the masked number's six region digits and the
    /// sex it would leave a few hundred candidates for the whole ID number, which a duplicate
    /// check could then pick out; the others see the year (and the age).
    pub(crate) fn resident_of(&self, a: &Access, r: &sea_orm::QueryResult) -> Result<ResidentView> {
        let masked: String = get(r, "id_masked")?;
        let phone_masked: Option<String> = get(r, "phone_masked")?;
        let birth: String = get(r, "birth_date")?;
        let kind: String = get(r, "kind")?;
        Ok(ResidentView {
            id: get(r, "id")?,
            household_id: get(r, "household_id")?,
            household: get(r, "number")?,
            household_kind: HouseholdKind::parse(&kind)
                .map(|k| k.label().to_string())
                .unwrap_or(kind),
            grid_code: get(r, "grid_code")?,
            name: get(r, "name")?,
            sex: get(r, "sex")?,
            age: age_on(&birth, &today().to_string()),
            birth_date: birth,
            id_number_masked: masked,
            phone_masked,
            relation: get(r, "relation")?,
            ethnicity: get(r, "ethnicity")?,
            political_status: get(r, "political_status")?,
            employment: get(r, "employment")?,
            moved_in: get(r, "moved_in")?,
            living_grid_code: get(r, "living_grid_code")?,
            left: get(r, "valid_to")?,
        })
        .map(|mut v| {
            if !v.can(a, Permission::PersonReveal) {
                // A move-in on the birthday (registered at birth) would give the date away.
                if v.moved_in.as_deref() == Some(v.birth_date.as_str()) {
                    v.moved_in = Some(mask_day(&v.birth_date));
                }
                // The age by years alone: the exact age would, day by day, tell the birthday.
                let year = |d: &str| d.get(..4).and_then(|y| y.parse::<i64>().ok()).unwrap_or(0);
                v.age = (year(&today().to_string()) - year(&v.birth_date)).max(0);
                v.birth_date = mask_day(&v.birth_date);
            }
            v
        })
    }

    /// Whether the user may still be told today that ID numbers are registered where he may
    /// not reveal them: not once he has had [`ELSEWHERE_PER_DAY`] such answers, or was refused
    /// one. From then on every registration, import and search by number of his is refused
    /// whatever it holds — were only those meeting a registered number refused, the refusal
    /// would itself be the answer.
    pub(crate) async fn elsewhere_gate(&self, user: &str) -> Result<()> {
        let (answered, refused) = self.elsewhere_today(user).await?;
        if answered >= ELSEWHERE_PER_DAY || refused > 0 {
            return Err(StoreError::Forbidden(format!(
                "今天您已多次遇到已在册、但您无权查看完整号码的证件号（每日上限 {ELSEWHERE_PER_DAY} 个）：\
                 为防止借登记、导入或查询推得他人的完整证件号，今天不能再登记、导入居民或按证件号查找，明天恢复。\
                 大批导入请由服务器管理员用 wangge import residents 办理"
            )));
        }
        Ok(())
    }

    /// (answers given, refusals) of "already registered" to the user today (China time).
    async fn elsewhere_today(&self, user: &str) -> Result<(i64, i64)> {
        let since = crate::audit::china_day_start(crate::today());
        let count = |result: &'static str| {
            scalar_i64(
                self.conn(),
                "SELECT COUNT(*) FROM audit_log WHERE user_name = ? AND action = ? AND result = ? AND at >= ?",
                vec![
                    user.into(),
                    ELSEWHERE_ACTION.into(),
                    result.into(),
                    since.clone().into(),
                ],
            )
        };
        Ok((count("conflict").await?, count("denied").await?))
    }

    /// Counts and audits the answer "already registered" (or "found") for `n` ID numbers
    /// whose holders the user may not reveal (outside his scope, or inside it without the
    /// reveal permission): each such answer gives away that a full number is on the county's
    /// rolls, and so, for a reader who sees only the masked number, the number itself. At
    /// most [`ELSEWHERE_PER_DAY`] numbers a day (China time) are answered, each audited; a
    /// request that would go over is refused whole, naming no row and no count, and closes
    /// the gate ([`Store::elsewhere_gate`]) for the day.
    pub(crate) async fn met_elsewhere(&self, a: &Access, user: &str, n: usize) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        let _turn = self.answers.lock().await;
        let (used, _) = self.elsewhere_today(user).await?;
        let over = used + n as i64 > ELSEWHERE_PER_DAY;
        let roles: Vec<String> = a
            .grants()
            .map(|g| format!("{}@{}", g.role.key(), g.scope.key))
            .collect();
        let entry = |object: String, result: &str| crate::AuditEntry {
            user: user.into(),
            roles: roles.join(","),
            action: ELSEWHERE_ACTION.into(),
            object,
            client: String::new(),
            result: result.into(),
        };
        if over {
            self.audit(&entry(
                format!("{n} 个证件号已登记，无权查看，拒绝答复"),
                "denied",
            ))
            .await?;
            return Err(StoreError::Forbidden(format!(
                "本次遇到已在册、但您无权查看完整号码的证件号，超过了每日可得到的此类答复（{ELSEWHERE_PER_DAY} 个）；\
                 为防止借登记或查询推得他人的完整证件号，本次不逐行指出，今天也不能再登记、导入居民或按证件号查找。\
                 大批导入请由服务器管理员用 wangge import residents 办理"
            )));
        }
        for k in 1..=n {
            self.audit(&entry(
                format!("证件号已登记，无权查看（本次第 {k} 个，共 {n} 个）"),
                "conflict",
            ))
            .await?;
        }
        Ok(())
    }

    /// Imports residents read from a table, all or nothing. Errors are (index into `rows`,
    /// column name or "", message); households are created by their number.
    pub async fn import_residents(
        &self,
        a: &Access,
        user: &str,
        rows: &[ResidentRow],
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<std::result::Result<usize, Vec<(usize, &'static str, String)>>> {
        self.elsewhere_gate(user).await?;
        let keys = self.keyring()?.clone();
        let county = self
            .county()
            .await?
            .ok_or_else(|| StoreError::NotFound("尚未设置本县（区）".into()))?
            .code;
        // Grids: live ones of the county, and whether the user may write there.
        let grid_rows = all(
            self.conn(),
            "SELECT code FROM grid WHERE county_code = ? AND valid_to IS NULL",
            vec![county.clone().into()],
        )
        .await?;
        let grids: std::collections::HashSet<String> = grid_rows
            .iter()
            .map(|r| get::<String>(r, "code"))
            .collect::<Result<_>>()?;
        let places = ImportPlaces::load(self, &county, rows).await?;
        let mut errors = Vec::new();
        // Per household number: grid, compound id, building id.
        let mut household_place: HashMap<&str, HouseholdPlace> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            let place = match places.resolve(r) {
                Ok(p) => p,
                Err((column, msg)) => {
                    errors.push((i, column, msg));
                    continue;
                }
            };
            let g = place.grid.as_str();
            if !grids.contains(g) {
                errors.push((i, "网格编码", format!("没有在册网格“{g}”")));
            } else if !a.can(Permission::PersonWrite, g) {
                errors.push((
                    i,
                    "网格编码",
                    format!("无权向网格“{g}”登记人员：不在您的管辖范围或权限之内"),
                ));
            } else {
                household_place.entry(r.household.as_str()).or_insert(place);
            }
        }
        // Already registered: the same ID number, or a household number in use.
        let id_index: Vec<String> = rows
            .iter()
            .map(|r| keys.index("id", r.id_number.as_str()))
            .collect();
        let mut existing_ids = std::collections::HashSet::new();
        // Numbers registered where the user may not reveal them: each answer tells that a
        // number is on the county's rolls, so such answers are counted and limited.
        let mut elsewhere = 0usize;
        for chunk in id_index.chunks(500) {
            let idx: Vec<String> = chunk.to_vec();
            let sql = format!(
                "SELECT id_index, grid_code FROM resident WHERE valid_to IS NULL AND id_index IN ({})",
                vec!["?"; idx.len()].join(", ")
            );
            for r in all(
                self.conn(),
                &sql,
                idx.into_iter().map(Value::from).collect(),
            )
            .await?
            {
                existing_ids.insert(get::<String>(&r, "id_index")?);
                if !a.can(Permission::PersonReveal, &get::<String>(&r, "grid_code")?) {
                    elsewhere += 1;
                }
            }
        }
        self.met_elsewhere(a, user, elsewhere).await?;
        let numbers: Vec<&str> = household_place.keys().copied().collect();
        let mut existing_households = std::collections::HashSet::new();
        for chunk in numbers.chunks(500) {
            let sql = format!(
                "SELECT number FROM household WHERE county_code = ? AND number IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut values: Vec<Value> = vec![county.clone().into()];
            values.extend(chunk.iter().map(|n| Value::from(n.to_string())));
            for r in all(self.conn(), &sql, values).await? {
                existing_households.insert(get::<String>(&r, "number")?);
            }
        }
        for (i, r) in rows.iter().enumerate() {
            if existing_ids.contains(&id_index[i]) {
                errors.push((
                    i,
                    "公民身份号码",
                    "该公民身份号码已登记（同一人不能重复登记）".into(),
                ));
            }
            if existing_households.contains(&r.household) {
                errors.push((i, "户号", format!("户号“{}”已存在", r.household)));
            }
        }
        // 人户分离: the household lived in is one of the file's or one already registered.
        let mut living: HashMap<String, (Option<String>, String)> = HashMap::new();
        let wanted: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.residing_household.as_deref())
            .filter(|n| !household_place.contains_key(n))
            .collect();
        for chunk in wanted.chunks(500) {
            let sql = format!(
                "SELECT id, number, grid_code FROM household WHERE county_code = ? AND valid_to IS NULL AND number IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut values: Vec<Value> = vec![county.clone().into()];
            values.extend(chunk.iter().map(|n| Value::from(n.to_string())));
            for r in all(self.conn(), &sql, values).await? {
                // One the user may not register people in is as if it were not registered.
                let grid: String = get(&r, "grid_code")?;
                if a.can(Permission::PersonWrite, &grid) {
                    living.insert(get(&r, "number")?, (Some(get(&r, "id")?), grid));
                }
            }
        }
        for (i, r) in rows.iter().enumerate() {
            let Some(n) = r.residing_household.as_deref() else {
                continue;
            };
            if let Some(p) = household_place.get(n) {
                living.insert(n.to_string(), (None, p.grid.clone()));
            } else if !living.contains_key(n) {
                errors.push((
                    i,
                    "现居住户号",
                    format!("现居住户号“{n}”既不在本表中，也不是您可登记的网格中的在册户"),
                ));
            } else if n == r.household {
                errors.push((i, "现居住户号", "现居住户号与户号相同，无需填写".into()));
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.0);
            return Ok(Err(errors));
        }
        let day = today().to_string();
        let tx = self.conn().begin().await?;
        let mut household_ids: HashMap<&str, String> = HashMap::new();
        let mut households = Vec::new();
        for r in rows {
            if household_ids.contains_key(r.household.as_str()) {
                continue;
            }
            let id = new_id();
            household_ids.insert(&r.household, id.clone());
            let place = &household_place[r.household.as_str()];
            households.push(vec![
                county.clone().into(),
                id.into(),
                r.household.clone().into(),
                r.household_kind.key().into(),
                place.grid.clone().into(),
                r.address.clone().into(),
                day.clone().into(),
                place.compound.clone().into(),
                place.building.clone().into(),
            ]);
        }
        crate::annex2::insert_rows(
            &tx,
            "INSERT INTO household (county_code, id, number, kind, grid_code, address, valid_from, compound_id, building_id)",
            9,
            households,
        )
        .await?;
        // The living household of each 人户分离 row, now that the file's have ids.
        let living_of = |r: &ResidentRow| -> (Option<String>, Option<String>) {
            match r
                .residing_household
                .as_deref()
                .and_then(|n| living.get(n).map(|l| (n, l)))
            {
                Some((n, (id, grid))) => (
                    id.clone().or_else(|| household_ids.get(n).cloned()),
                    Some(grid.clone()),
                ),
                None => (None, None),
            }
        };
        // Encrypting and indexing a chunk takes about a third of the time SQLite takes to
        // insert one: on a multi-threaded runtime the next chunk is prepared on another thread
        // while the current one is written.
        let build = |chunk: &[ResidentRow], indexes: &[String]| -> Vec<Vec<Value>> {
            chunk
                .iter()
                .zip(indexes)
                .map(|(r, index)| {
                    let (living_id, living_grid) = living_of(r);
                    vec![
                        new_id().into(),
                        household_ids[r.household.as_str()].clone().into(),
                        household_place[r.household.as_str()].grid.clone().into(),
                        r.name.clone().into(),
                        r.id_number.sex().label().into(),
                        r.id_number.birth_date().to_string().into(),
                        keys.encrypt(r.id_number.as_str()).into(),
                        index.clone().into(),
                        r.id_number.mask().into(),
                        r.phone.as_ref().map(|p| keys.encrypt(p.as_str())).into(),
                        r.phone
                            .as_ref()
                            .map(|p| keys.index("phone", p.as_str()))
                            .into(),
                        r.phone.as_ref().map(|p| p.mask()).into(),
                        r.ethnicity.map(|e| e.label().to_string()).into(),
                        r.political_status.map(|e| e.label().to_string()).into(),
                        r.employment.map(|e| e.label().to_string()).into(),
                        r.relation.map(|e| e.label().to_string()).into(),
                        r.moved_in.map(|d| d.to_string()).into(),
                        living_id.into(),
                        living_grid.into(),
                        r.household_kind.key().into(),
                        r.household.clone().into(),
                    ]
                })
                .collect()
        };
        const HEAD: &str = "INSERT INTO resident (county_code, id, household_id, grid_code, name, sex, birth_date, id_enc, \
             id_index, id_masked, phone_enc, phone_index, phone_masked, ethnicity, political_status, employment, \
             relation, moved_in, valid_from, living_household_id, living_grid_code, household_kind, household_number)";
        // county_code and valid_from are the same for every row: literals, not parameters.
        let tuple = format!(
            "({}, {}, {}, ?, ?, ?, ?)",
            crate::annex2::literal(&county),
            vec!["?"; 17].join(", "),
            crate::annex2::literal(&day)
        );
        let tuple = tuple.as_str();
        let total = rows.len();
        let chunks = rows.chunks(1000).zip(id_index.chunks(1000));
        if tokio::runtime::Handle::current().runtime_flavor()
            == tokio::runtime::RuntimeFlavor::MultiThread
        {
            let handle = tokio::runtime::Handle::current();
            tokio::task::block_in_place(|| {
                std::thread::scope(|scope| -> Result<()> {
                    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Vec<Value>>>(2);
                    scope.spawn(move || {
                        for (chunk, indexes) in chunks {
                            if send.send(build(chunk, indexes)).is_err() {
                                break;
                            }
                        }
                    });
                    let mut done = 0;
                    for values in receive {
                        done += values.len();
                        handle.block_on(crate::annex2::insert_rows_as(
                            &tx, HEAD, tuple, 20, values,
                        ))?;
                        progress(done, total);
                    }
                    Ok(())
                })
            })?;
        } else {
            let mut done = 0;
            for (chunk, indexes) in chunks {
                let values = build(chunk, indexes);
                done += values.len();
                crate::annex2::insert_rows_as(&tx, HEAD, tuple, 21, values).await?;
                progress(done, total);
            }
        }
        crate::care::people_changed(&tx, &county, &[]).await?;
        tx.commit().await?;
        Ok(Ok(rows.len()))
    }

    /// Residents listed a page at a time.
    pub const PAGE: usize = 200;

    /// A page (0-based) of a grid's residents, masked, by household number.
    pub async fn grid_residents(
        &self,
        a: &Access,
        grid: &str,
        page: usize,
    ) -> Result<Vec<ResidentView>> {
        if !a.can(Permission::PersonRead, grid) {
            return Err(StoreError::Forbidden("无权查看该网格的人员信息".into()));
        }
        let rows = all(
            self.conn(),
            &format!(
                "SELECT {RESIDENT_COLUMNS}, r.household_number AS household_order FROM resident r JOIN household h \
                 ON h.county_code = r.county_code AND h.id = r.household_id WHERE r.grid_code = ? AND r.valid_to IS NULL \
                 UNION ALL SELECT {RESIDENT_COLUMNS}, r.household_number AS household_order FROM resident r JOIN household h \
                 ON h.county_code = r.county_code AND h.id = r.household_id WHERE r.living_grid_code = ? \
                 AND r.grid_code <> r.living_grid_code AND r.valid_to IS NULL ORDER BY 18, 6 LIMIT ? OFFSET ?"
            ),
            vec![
                grid.into(),
                grid.into(),
                (Self::PAGE as i64).into(),
                // Past every row (a page number too large to multiply) reads nothing.
                i64::try_from(page.saturating_mul(Self::PAGE))
                    .unwrap_or(i64::MAX)
                    .into(),
            ],
        )
        .await?;
        rows.iter().map(|r| self.resident_of(a, r)).collect()
    }

    /// The rows' residents the user may read, as the user may see them.
    fn readable(&self, a: &Access, rows: &[sea_orm::QueryResult]) -> Result<Vec<ResidentView>> {
        let mut out = Vec::new();
        for r in rows {
            let v = self.resident_of(a, r)?;
            if v.can(a, Permission::PersonRead) {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// Residents with this ID number, inside the user's scope (by the blind index).
    /// A search by full number confirms the number of whoever it finds: one the user may not
    /// reveal is counted like an "already registered" answer ([`Store::met_elsewhere`]).
    pub async fn find_by_id_number(
        &self,
        a: &Access,
        user: &str,
        id: &IdNumber,
    ) -> Result<Vec<ResidentView>> {
        self.elsewhere_gate(user).await?;
        let index = self.keyring()?.index("id", id.as_str());
        let rows = all(
            self.conn(),
            &format!(
                "SELECT {RESIDENT_COLUMNS} FROM resident r JOIN household h ON h.county_code = r.county_code \
                 AND h.id = r.household_id WHERE r.id_index = ? AND r.valid_to IS NULL"
            ),
            vec![index.into()],
        )
        .await?;
        let found = self.readable(a, &rows)?;
        let hidden = found
            .iter()
            .filter(|v| !v.can(a, Permission::PersonReveal))
            .count();
        self.met_elsewhere(a, user, hidden).await?;
        Ok(found)
    }

    /// Residents whose name contains `q`, or whose household number is `q`, under the user's
    /// scope: those still here first, then those who moved away or died (`left`), at most 100.
    pub async fn find_by_name(&self, a: &Access, q: &str) -> Result<Vec<ResidentView>> {
        let q = q.trim();
        let prefixes = a.prefixes(Permission::PersonRead);
        if q.is_empty() || prefixes.is_empty() {
            return Ok(Vec::new());
        }
        let escaped: String = q
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        // Registered in the scope, or living there (人户分离).
        let scope =
            vec!["r.grid_code LIKE ? OR r.living_grid_code LIKE ?"; prefixes.len()].join(" OR ");
        let mut values: Vec<sea_orm::Value> =
            vec![format!("%{escaped}%").into(), q.to_string().into()];
        for p in &prefixes {
            values.push(format!("{p}%").into());
            values.push(format!("{p}%").into());
        }
        let rows = all(
            self.conn(),
            &format!(
                "SELECT {RESIDENT_COLUMNS} FROM resident r JOIN household h ON h.county_code = r.county_code \
                 AND h.id = r.household_id WHERE (r.name LIKE ? ESCAPE '\\' OR h.number = ?) AND ({scope}) \
                 ORDER BY CASE WHEN r.valid_to IS NULL THEN 0 ELSE 1 END, r.grid_code, h.number, r.name LIMIT 100"
            ),
            values,
        )
        .await?;
        self.readable(a, &rows)
    }

    pub async fn resident(&self, a: &Access, id: &str) -> Result<ResidentView> {
        let r = one(
            self.conn(),
            &format!(
                "SELECT {RESIDENT_COLUMNS} FROM resident r JOIN household h ON h.county_code = r.county_code \
                 AND h.id = r.household_id WHERE r.id = ?"
            ),
            vec![id.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound("没有这位居民".into()))?;
        let v = self.resident_of(a, &r)?;
        if !v.can(a, Permission::PersonRead) {
            return Err(StoreError::Forbidden("无权查看该居民的信息".into()));
        }
        Ok(v)
    }

    /// The full ID and phone numbers, for a user with the reveal permission on the resident's
    /// grid. The caller writes the audit row (who, whose, why — never the values).
    pub async fn reveal(&self, a: &Access, id: &str) -> Result<Revealed> {
        let v = self.resident(a, id).await?;
        if !v.can(a, Permission::PersonReveal) {
            return Err(StoreError::Forbidden("无权查看完整证件号和电话".into()));
        }
        let r = one(
            self.conn(),
            "SELECT id_enc, phone_enc FROM resident WHERE id = ?",
            vec![id.into()],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound("没有这位居民".into()))?;
        let keys = self.keyring()?;
        Ok(Revealed {
            id_number: keys.decrypt(&get::<String>(&r, "id_enc")?)?,
            phone: match get::<Option<String>>(&r, "phone_enc")? {
                Some(p) => Some(keys.decrypt(&p)?),
                None => None,
            },
        })
    }

    /// Residents under the user's scope for export, masked: (grid, household, name, sex,
    /// birth date, masked ID, masked phone).
    pub async fn export_residents(
        &self,
        a: &Access,
        grid_prefix: Option<&str>,
    ) -> Result<Vec<ResidentView>> {
        let prefixes = a.prefixes(Permission::PersonRead);
        let mut out = Vec::new();
        for p in prefixes {
            let p = match grid_prefix {
                Some(g) if g.starts_with(&p) => g.to_string(),
                Some(g) if p.starts_with(g) => p,
                Some(_) => continue,
                None => p,
            };
            let rows = all(
                self.conn(),
                &format!(
                    "SELECT {RESIDENT_COLUMNS} FROM resident r JOIN household h ON h.county_code = r.county_code \
                     AND h.id = r.household_id WHERE r.grid_code LIKE ? AND r.valid_to IS NULL ORDER BY r.grid_code, h.number"
                ),
                vec![format!("{p}%").into()],
            )
            .await?;
            for r in &rows {
                out.push(self.resident_of(a, r)?);
            }
        }
        Ok(out)
    }

    /// Re-encrypts every value not under the keyring's current key. Returns how many values.
    pub async fn rotate_keys(&self) -> Result<usize> {
        let keys = self.keyring()?.clone();
        let rows = all(
            self.conn(),
            "SELECT county_code, id, id_enc, phone_enc FROM resident",
            vec![],
        )
        .await?;
        let tx = self.conn().begin().await?;
        let mut n = 0;
        for r in &rows {
            let id_enc: String = get(r, "id_enc")?;
            let phone_enc: Option<String> = get(r, "phone_enc")?;
            let stale = !keys.is_current(&id_enc)
                || phone_enc.as_deref().is_some_and(|p| !keys.is_current(p));
            if !stale {
                continue;
            }
            let id_new = keys.encrypt(&keys.decrypt(&id_enc)?);
            let phone_new = match &phone_enc {
                Some(p) => Some(keys.encrypt(&keys.decrypt(p)?)),
                None => None,
            };
            exec(
                &tx,
                "UPDATE resident SET id_enc = ?, phone_enc = ? WHERE county_code = ? AND id = ?",
                vec![
                    id_new.into(),
                    phone_new.into(),
                    get::<String>(r, "county_code")?.into(),
                    get::<String>(r, "id")?.into(),
                ],
            )
            .await?;
            n += 1;
        }
        tx.commit().await?;
        Ok(n)
    }
}

/// Where an imported household is.
struct HouseholdPlace {
    grid: String,
    compound: Option<String>,
    building: Option<String>,
}

struct CompoundRef {
    id: String,
    grid: Option<String>,
}

/// The county's compounds by name and buildings by (compound, name), loaded only when the
/// file names them.
struct ImportPlaces {
    compounds: HashMap<String, Vec<CompoundRef>>,
    buildings: HashMap<(String, String), String>,
}

impl ImportPlaces {
    async fn load(store: &Store, county: &str, rows: &[ResidentRow]) -> Result<ImportPlaces> {
        let mut p = ImportPlaces {
            compounds: HashMap::new(),
            buildings: HashMap::new(),
        };
        if rows.iter().any(|r| r.compound.is_some()) {
            for r in all(
                store.conn(),
                "SELECT id, name, grid_code FROM compound WHERE county_code = ? AND valid_to IS NULL",
                vec![county.into()],
            )
            .await?
            {
                p.compounds
                    .entry(get(&r, "name")?)
                    .or_default()
                    .push(CompoundRef {
                        id: get(&r, "id")?,
                        grid: get(&r, "grid_code")?,
                    });
            }
        }
        if rows.iter().any(|r| r.building.is_some()) {
            for r in all(
                store.conn(),
                "SELECT id, name, compound_id FROM building WHERE county_code = ? AND valid_to IS NULL",
                vec![county.into()],
            )
            .await?
            {
                p.buildings
                    .insert((get(&r, "compound_id")?, get(&r, "name")?), get(&r, "id")?);
            }
        }
        Ok(p)
    }

    /// The row's grid, compound and building, or the column and message of what is wrong.
    fn resolve(
        &self,
        r: &ResidentRow,
    ) -> std::result::Result<HouseholdPlace, (&'static str, String)> {
        let compound = match r.compound.as_deref() {
            None => None,
            Some(name) => {
                let all = self.compounds.get(name).map(Vec::as_slice).unwrap_or(&[]);
                let fits: Vec<&CompoundRef> = all
                    .iter()
                    .filter(|c| r.grid.is_none() || c.grid == r.grid)
                    .collect();
                match (fits.len(), r.grid.as_deref()) {
                    (1, _) => Some(fits[0]),
                    (0, _) if all.is_empty() => {
                        return Err(("小区", format!("没有名为“{name}”的在册小区（村庄）")));
                    }
                    (0, Some(g)) => return Err(("小区", format!("小区“{name}”不在网格“{g}”内"))),
                    _ => {
                        return Err((
                            "小区",
                            format!("名为“{name}”的小区不止一个，请同时填写网格编码"),
                        ));
                    }
                }
            }
        };
        let building = match (r.building.as_deref(), compound) {
            (None, _) => None,
            (Some(_), None) => return Err(("楼栋", "填写楼栋时须同时填写所在小区".into())),
            (Some(b), Some(c)) => match self.buildings.get(&(c.id.clone(), b.to_string())) {
                Some(id) => Some(id.clone()),
                None => {
                    return Err((
                        "楼栋",
                        format!(
                            "小区“{}”中没有楼栋“{b}”",
                            r.compound.as_deref().unwrap_or("")
                        ),
                    ));
                }
            },
        };
        let grid = match (r.grid.clone(), compound) {
            (Some(g), _) => g,
            (None, Some(c)) => c.grid.clone().ok_or((
                "小区",
                format!(
                    "小区“{}”尚未划入网格，请填写网格编码",
                    r.compound.as_deref().unwrap_or("")
                ),
            ))?,
            (None, None) => {
                return Err(("网格编码", "未填写网格编码或小区，无法确定所属网格".into()));
            }
        };
        Ok(HouseholdPlace {
            grid,
            compound: compound.map(|c| c.id.clone()),
            building,
        })
    }
}
