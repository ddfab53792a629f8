//! The `[limits]` settings: rate budgets per client, the per-order-number
//! lock, and what bounds connections.

use clap::Args;
use serde::{Deserialize, Serialize};

use super::values::{Bounded, FailureSpec, Period, RateSpec};

/// Rate limits per client IP, the per-order-number lock, and connections.
#[derive(Clone, Debug, PartialEq, Eq, Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Every request (pages, files) per client IP: 600 a minute, bursts of
    /// 120.
    #[arg(
        id = "limits.pages",
        long = "limit-pages",
        env = "ORDER_STATUS_LIMIT_PAGES",
        value_name = "RATE",
        default_value = "600/m:120",
        global = true
    )]
    pub pages: RateSpec,
    /// Lookup form posts per client IP.
    #[arg(
        id = "limits.lookup",
        long = "limit-lookup",
        env = "ORDER_STATUS_LIMIT_LOOKUP",
        value_name = "RATE",
        default_value = "10/m:5",
        global = true
    )]
    pub lookup: RateSpec,
    /// Staff sign-in posts per client IP.
    #[arg(
        id = "limits.login",
        long = "limit-login",
        env = "ORDER_STATUS_LIMIT_LOGIN",
        value_name = "RATE",
        default_value = "5/m:3",
        global = true
    )]
    pub login: RateSpec,
    /// Webhooks and the JSON API per client IP.
    #[arg(
        id = "limits.api",
        long = "limit-api",
        env = "ORDER_STATUS_LIMIT_API",
        value_name = "RATE",
        default_value = "6000/m:600",
        global = true
    )]
    pub api: RateSpec,
    /// Failed lookups of one order number (from anywhere) before it is
    /// locked for the rest of the window.
    #[arg(
        id = "limits.order_failures",
        long = "limit-order-failures",
        env = "ORDER_STATUS_LIMIT_ORDER_FAILURES",
        value_name = "COUNT/WINDOW",
        default_value = "5/15m",
        global = true
    )]
    pub order_failures: FailureSpec,
    /// Connections open at once, in total; 0: three quarters of the
    /// open-file limit.
    #[arg(
        id = "limits.connections",
        long = "limit-connections",
        env = "ORDER_STATUS_LIMIT_CONNECTIONS",
        value_name = "N",
        default_value = "0",
        global = true
    )]
    pub connections: Bounded<0, 1_000_000>,
    /// Connections open at once from one address (trusted proxies are
    /// exempt); over it, a bare 503 and close.
    #[arg(
        id = "limits.connections_per_client",
        long = "limit-connections-per-client",
        env = "ORDER_STATUS_LIMIT_CONNECTIONS_PER_CLIENT",
        value_name = "N",
        default_value = "64",
        global = true
    )]
    pub connections_per_client: Bounded<1, 1_000_000>,
    /// A new connection that sends nothing for this long is closed (any
    /// protocol).
    #[arg(
        id = "limits.first_byte_timeout",
        long = "limit-first-byte-timeout",
        env = "ORDER_STATUS_LIMIT_FIRST_BYTE_TIMEOUT",
        value_name = "PERIOD",
        default_value = "10s",
        global = true
    )]
    pub first_byte_timeout: Period,
    /// A connection with no request in flight and no bytes moving for this
    /// long is closed (HTTP/1 keep-alive and HTTP/2 alike).
    #[arg(
        id = "limits.idle_timeout",
        long = "limit-idle-timeout",
        env = "ORDER_STATUS_LIMIT_IDLE_TIMEOUT",
        value_name = "PERIOD",
        default_value = "30s",
        global = true
    )]
    pub idle_timeout: Period,
    /// How long a webhook's answer waits for the delivery to be applied.
    /// A verified delivery is first kept on disk (`webhooks/inbox.log`);
    /// past this wait it is answered 200 `accepted` and applied right
    /// after. Shopify allows 5 seconds.
    #[arg(
        id = "limits.webhook_answer",
        long = "limit-webhook-answer",
        env = "ORDER_STATUS_LIMIT_WEBHOOK_ANSWER",
        value_name = "PERIOD",
        default_value = "50ms",
        global = true
    )]
    pub webhook_answer: Period<0>,
}
