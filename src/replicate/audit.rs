//! The cluster's audit log (see `actions::audit`): the stream
//! `ORDER_STATUS_AUDIT`, one message per line on
//! `order-status.audit.<order key, encoded>` (`order-status.audit._` for a
//! line about no order), so an order's lines are read by subject and the
//! whole log in the stream's one order. Kept as long as the stream is.

use std::time::Duration;

use async_nats::jetstream::{consumer, stream};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;

use super::{ReplicateError, Replication, encode_key, js_err};
use crate::actions::{AuditEntry, SharedAudit};

/// The stream of audit lines.
pub const AUDIT_STREAM: &str = "ORDER_STATUS_AUDIT";
const AUDIT_SUBJECT: &str = "order-status.audit";
/// Longest a read of the log may take.
const READ_WAIT: Duration = Duration::from_secs(10);

struct StreamAudit {
    me: Replication,
}

impl Replication {
    /// The audit log every replica appends to and reads.
    pub fn shared_audit(&self) -> std::sync::Arc<dyn SharedAudit> {
        std::sync::Arc::new(StreamAudit { me: self.clone() })
    }

    async fn audit_stream(&self) -> Result<stream::Stream, ReplicateError> {
        self.js
            .get_or_create_stream(stream::Config {
                name: AUDIT_STREAM.into(),
                description: Some("order-status: who did what to which order".into()),
                subjects: vec![format!("{AUDIT_SUBJECT}.>")],
                storage: stream::StorageType::File,
                num_replicas: self.copies,
                deny_delete: true,
                deny_purge: true,
                ..Default::default()
            })
            .await
            .map_err(js_err)
    }
}

fn subject(order: Option<&str>) -> String {
    match order {
        Some(key) => format!("{AUDIT_SUBJECT}.{}", encode_key(key)),
        None => format!("{AUDIT_SUBJECT}._"),
    }
}

impl SharedAudit for StreamAudit {
    fn append(
        &self,
        lines: Vec<(Option<String>, Vec<u8>)>,
    ) -> BoxFuture<'static, Result<(), String>> {
        let me = self.me.clone();
        Box::pin(async move {
            me.audit_stream().await.map_err(|e| e.to_string())?;
            for (order, line) in lines {
                me.js
                    .publish(subject(order.as_deref()), line.into())
                    .await
                    .map_err(|e| e.to_string())?
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        })
    }

    fn read(&self, order: Option<String>) -> BoxFuture<'static, Result<Vec<Vec<u8>>, String>> {
        let me = self.me.clone();
        Box::pin(async move {
            let read = async {
                let stream = me.audit_stream().await.map_err(|e| e.to_string())?;
                let filter = match &order {
                    Some(key) => subject(Some(key)),
                    None => format!("{AUDIT_SUBJECT}.>"),
                };
                let consumer = stream
                    .create_consumer(consumer::pull::OrderedConfig {
                        filter_subject: filter,
                        deliver_policy: consumer::DeliverPolicy::All,
                        ..Default::default()
                    })
                    .await
                    .map_err(|e| e.to_string())?;
                let mut out = Vec::new();
                if consumer.cached_info().num_pending == 0 {
                    return Ok(out);
                }
                let mut messages = consumer.messages().await.map_err(|e| e.to_string())?;
                while let Some(m) = messages.next().await {
                    let m = m.map_err(|e| e.to_string())?;
                    let info = m.info().ok().map(|i| (i.stream_sequence, i.pending));
                    // Only lines a replica wrote go out (the page and the
                    // admins' export); anything else is the stream's junk.
                    if serde_json::from_slice::<AuditEntry>(&m.payload).is_ok() {
                        out.push(m.payload.to_vec());
                    } else {
                        let seq = info.map(|(seq, _)| seq.to_string()).unwrap_or_default();
                        me.status
                            .refused(AUDIT_STREAM, &seq, "not an audit line; passed over");
                    }
                    if info.map(|(_, pending)| pending).unwrap_or(0) == 0 {
                        break;
                    }
                }
                Ok(out)
            };
            tokio::time::timeout(READ_WAIT, read)
                .await
                .map_err(|_| "the audit log did not answer in time".to_string())?
        })
    }
}
