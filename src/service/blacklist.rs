//! The blacklist: numbers whose transfers the risk rules flag, added and removed with an
//! audit event each.

use crate::error::{AppError, AppResult};
use crate::evidence::RISK_BLACKLIST;
use crate::model::Actor;
use crate::store::{with_retry, BlacklistEntry, Store};
use serde_json::json;

/// Put `number` on the blacklist; `false` when it already was (nothing written).
pub(crate) async fn add(
    store: &Store,
    actor: &Actor,
    number: &str,
    reason: &str,
) -> AppResult<bool> {
    with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let added = tx.blacklist_add(number, reason).await?;
        if !added {
            tx.rollback().await?;
            return Ok(false);
        }
        let row = tx.bind_row(&RISK_BLACKLIST, number).await?;
        tx.audit_rows(
            "risk.blacklist.added",
            number,
            json!({"number": number, "reason": reason}),
            vec![row],
        );
        tx.commit().await?;
        Ok(true)
    })
    .await
}

/// Take `number` off the blacklist; not found when it is not on it.
pub(crate) async fn remove(
    store: &Store,
    actor: &Actor,
    number: &str,
) -> AppResult<BlacklistEntry> {
    with_retry(|| async {
        let mut tx = store.begin_write(actor).await?;
        let Some(entry) = tx.blacklist_remove(number).await? else {
            tx.rollback().await?;
            return Err(AppError::not_found(format!(
                "{number} is not on the blacklist"
            )));
        };
        let row = tx.bind_row(&RISK_BLACKLIST, number).await?;
        tx.audit_rows(
            "risk.blacklist.removed",
            number,
            json!({"number": number, "reason_added": entry.reason}),
            vec![row],
        );
        tx.commit().await?;
        Ok(entry)
    })
    .await
}
