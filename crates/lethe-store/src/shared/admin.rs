async fn insert_api_key(tx: &mut Tx, key: &NewApiKey) -> Res<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO api_keys (account_id, name, scopes, prefix, key_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(key.account_id.as_deref())
    .bind(&key.name)
    .bind(&key.scopes)
    .bind(&key.prefix)
    .bind(&key.key_hash)
    .bind(key.created_at)
    .fetch_one(&mut **tx)
    .await?)
}

async fn check_keyring(tx: &mut Tx, check: &KeyringCheck, now: i64) -> Res<bool> {
    // Racing nodes on PostgreSQL: the loser of this insert waits for the winner's
    // commit, then sees the row and inserts nothing.
    let fresh = sqlx::query(
        "INSERT INTO deployment (id, lookup_check, created_at) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&check.lookup_check)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if !fresh {
        let stored: Vec<u8> = sqlx::query_scalar("SELECT lookup_check FROM deployment WHERE id = 1")
            .fetch_one(&mut **tx)
            .await?;
        if stored != check.lookup_check {
            return Err(StoreError::KeyringMismatch(
                "the lookup-hash secret is not the one this database was created with".into(),
            ));
        }
    }
    let known: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT kek_id, check_value FROM kek_checks")
        .fetch_all(&mut **tx)
        .await?;
    match known.iter().find(|(id, _)| *id == check.kek_id) {
        Some((_, value)) if *value == check.kek_check => {}
        Some(_) => {
            return Err(StoreError::KeyringMismatch(format!(
                "key-encryption key `{}` has different key material than when it was recorded",
                check.kek_id
            )))
        }
        None if !known.is_empty() => {
            let ids: Vec<&str> = known.iter().map(|(id, _)| id.as_str()).collect();
            return Err(StoreError::KeyringMismatch(format!(
                "this database uses key-encryption key(s) {}, not `{}`",
                ids.join(", "),
                check.kek_id
            )));
        }
        None => {
            sqlx::query("INSERT INTO kek_checks (kek_id, check_value) VALUES ($1, $2)")
                .bind(&check.kek_id)
                .bind(&check.kek_check)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(fresh)
}

const APP_SELECT: &str = "SELECT a.app_id, a.account_id, a.bot_id, a.name, a.scopes, a.sealed_secret, a.created_at, \
     a.revoked_at, k.kek_id, k.wrapped FROM apps a JOIN data_keys k ON k.account_id = a.account_id \
     AND k.owner_kind = 'app' AND k.owner_id = a.app_id";

const API_KEY_COLUMNS: &str = "id, account_id, name, scopes, prefix, created_at, revoked_at";

#[async_trait]
impl AdminStore for Backend {
    fn backend(&self) -> &'static str {
        BACKEND_NAME
    }

    async fn ping(&self) -> Res<()> {
        sqlx::query("SELECT 1").execute(self.read_pool()).await?;
        Ok(())
    }

    async fn bootstrap(&self, check: &KeyringCheck, operator: &NewApiKey) -> Res<bool> {
        let mut tx = self.begin_write().await?;
        let fresh = check_keyring(&mut tx, check, operator.created_at).await?;
        if fresh {
            insert_api_key(&mut tx, operator).await?;
        }
        tx.commit().await?;
        Ok(fresh)
    }

    async fn create_account(&self, site_id: &str, now: i64) -> Res<WriteOutcome> {
        let mut tx = self.begin_write().await?;
        let created =
            sqlx::query("INSERT INTO accounts (site_id, created_at) VALUES ($1, $2) ON CONFLICT (site_id) DO NOTHING")
                .bind(site_id)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        tx.commit().await?;
        Ok(if created {
            WriteOutcome::Created
        } else {
            WriteOutcome::Conflict
        })
    }

    async fn accounts(&self) -> Res<Vec<AccountRecord>> {
        Ok(
            sqlx::query_as("SELECT site_id, created_at FROM accounts ORDER BY site_id")
                .fetch_all(self.read_pool())
                .await?,
        )
    }

    async fn create_bot(&self, bot: &BotRecord) -> Res<WriteOutcome> {
        let mut tx = self.begin_write().await?;
        let created = sqlx::query(
            "INSERT INTO bots (account_id, bot_id, name, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, bot_id) DO NOTHING",
        )
        .bind(&bot.account_id)
        .bind(&bot.bot_id)
        .bind(&bot.name)
        .bind(bot.created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(if created {
            WriteOutcome::Created
        } else {
            WriteOutcome::Conflict
        })
    }

    async fn bots(&self, account: &str) -> Res<Vec<BotRecord>> {
        Ok(sqlx::query_as(
            "SELECT account_id, bot_id, name, created_at FROM bots WHERE account_id = $1 ORDER BY bot_id",
        )
        .bind(account)
        .fetch_all(self.read_pool())
        .await?)
    }

    async fn create_api_key(&self, key: &NewApiKey) -> Res<i64> {
        let mut tx = self.begin_write().await?;
        let id = insert_api_key(&mut tx, key).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn api_keys(&self, account: Option<&str>) -> Res<Vec<ApiKeyRecord>> {
        let rows = match account {
            Some(account) => {
                let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE account_id = $1 ORDER BY id");
                sqlx::query_as(&sql).bind(account).fetch_all(self.read_pool()).await?
            }
            None => {
                let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE account_id IS NULL ORDER BY id");
                sqlx::query_as(&sql).fetch_all(self.read_pool()).await?
            }
        };
        Ok(rows)
    }

    async fn revoke_api_key(&self, account: Option<&str>, id: i64, now: i64) -> Res<bool> {
        let mut tx = self.begin_write().await?;
        let query = match account {
            Some(account) => sqlx::query(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND account_id = $3",
            )
            .bind(now)
            .bind(id)
            .bind(account),
            None => sqlx::query(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 AND account_id IS NULL",
            )
            .bind(now)
            .bind(id),
        };
        let found = query.execute(&mut *tx).await?.rows_affected() == 1;
        tx.commit().await?;
        Ok(found)
    }

    async fn create_app(&self, app: &AppRecord) -> Res<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO data_keys (account_id, owner_kind, owner_id, kek_id, wrapped, created_at) \
             VALUES ($1, 'app', $2, $3, $4, $5)",
        )
        .bind(&app.account_id)
        .bind(&app.app_id)
        .bind(&app.kek_id)
        .bind(&app.wrapped)
        .bind(app.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO apps (app_id, account_id, bot_id, name, scopes, sealed_secret, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&app.app_id)
        .bind(&app.account_id)
        .bind(&app.bot_id)
        .bind(&app.name)
        .bind(&app.scopes)
        .bind(&app.sealed_secret)
        .bind(app.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn app(&self, app_id: &str) -> Res<Option<AppRecord>> {
        let sql = format!("{APP_SELECT} WHERE a.app_id = $1");
        Ok(sqlx::query_as(&sql)
            .bind(app_id)
            .fetch_optional(self.read_pool())
            .await?)
    }

    async fn apps(&self, account: &str) -> Res<Vec<AppRecord>> {
        let sql = format!("{APP_SELECT} WHERE a.account_id = $1 ORDER BY a.created_at, a.app_id");
        Ok(sqlx::query_as(&sql).bind(account).fetch_all(self.read_pool()).await?)
    }
}
