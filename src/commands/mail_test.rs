//! `order-status mail test`: one message through the configured transport,
//! saying which step failed if one does.

use std::sync::Arc;

use chrono::Utc;

use crate::config::Config;
use crate::notify;

/// `order-status mail test --to ADDRESS`: connects, authenticates and
/// sends one message through the configured transport, saying which step
/// failed if one does. Returns whether the message was accepted.
pub async fn mail_test(config: &Config, to: &str) -> anyhow::Result<bool> {
    use crate::config::MailTransport;
    let Ok(to) = to.trim().parse::<lettre::message::Mailbox>() else {
        println!("{to:?} is not an email address.");
        return Ok(false);
    };
    let transport = notify::Transport::from_config(&config.mail, &config.data_dir)?;
    match &config.mail.transport {
        Some(MailTransport::Smtp(url)) => println!(
            "Transport: SMTP {}",
            crate::logsafe::url_without_password(url.expose())
        ),
        _ => println!(
            "Transport: files in {} (set ORDER_STATUS_SMTP_URL to send real email)",
            transport
                .dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default()
        ),
    }
    if let Err(e) = transport.check().await {
        println!("Cannot reach the mail server (connect, TLS or sign-in failed): {e}");
        return Ok(false);
    }
    println!("Connected.");
    let links =
        crate::links::Links::new(vec![crate::links::load_or_create_key(&config.data_dir)?])?;
    let composer = notify::Composer::new(
        config,
        Arc::new(links),
        Arc::new(crate::store::LinkEpochs::open(&config.data_dir)?),
        Arc::new(config.merchant.catalog().map_err(anyhow::Error::msg)?),
    );
    let message = composer.test_message(to.clone())?;
    let name = format!("{}-test", Utc::now().format("%Y%m%dT%H%M%S"));
    match transport.send(&message, &name).await {
        Ok(()) => {
            println!("Sent: the server accepted the test message to {to}.");
            Ok(true)
        }
        Err(e) => {
            println!("Not sent: {e}");
            Ok(false)
        }
    }
}
