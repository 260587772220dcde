//! Outgoing email (verification and password-reset links): SMTP through lettre, or — on the
//! embedded defaults — the log. Sending never blocks a request: messages go out on a blocking
//! thread after the response.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{Message, SmtpTransport, Transport};

use crate::config::MailConfig;

/// A message handed to the mailer (kept by the in-memory mailer for tests).
#[derive(Debug, Clone)]
pub struct Sent {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// Written to the log (embedded default: the links are in the server's output).
    Log,
    /// Sent over SMTP.
    Smtp {
        /// The configured transport.
        transport: Box<SmtpTransport>,
        /// The From address.
        from: Mailbox,
    },
    /// Kept in memory (tests).
    Memory(Arc<Mutex<Vec<Sent>>>),
}

impl Mailer {
    /// `smtp_url`: `log` (or unset: the embedded default; `Settings::for_serving` refuses it
    /// unset elsewhere), `memory`, or `smtp://user:pass@host:port` / `smtps://...`
    /// (`?tls=required` for STARTTLS).
    pub fn from_config(cfg: &MailConfig) -> Result<Mailer, String> {
        let url = cfg.smtp_url.expose().trim();
        match url {
            "" | "log" => Ok(Mailer::Log),
            "memory" => Ok(Mailer::Memory(Arc::default())),
            _ => {
                let transport = SmtpTransport::from_url(url)
                    .map_err(|e| format!("invalid BEEBETA_SMTP_URL: {e}"))?
                    .timeout(Some(Duration::from_secs(10)))
                    .build();
                let from: Mailbox = cfg
                    .from
                    .parse()
                    .map_err(|e| format!("invalid BEEBETA_MAIL_FROM `{}`: {e}", cfg.from))?;
                Ok(Mailer::Smtp {
                    transport: Box::new(transport),
                    from,
                })
            }
        }
    }

    /// Sends a plain-text message in the background; failures are logged, never raised.
    pub fn send(&self, to: &str, subject: &str, body: String) {
        match self {
            Mailer::Log => {
                tracing::info!(
                    to,
                    subject,
                    "email (no SMTP configured; the message follows)\n{body}"
                );
            }
            Mailer::Memory(outbox) => {
                outbox.lock().unwrap_or_else(|p| p.into_inner()).push(Sent {
                    to: to.into(),
                    subject: subject.into(),
                    body,
                });
            }
            Mailer::Smtp { transport, from } => {
                let message =
                    match to
                        .parse::<Mailbox>()
                        .map_err(|e| e.to_string())
                        .and_then(|to| {
                            Message::builder()
                                .from(from.clone())
                                .to(to)
                                .subject(subject)
                                .body(body)
                                .map_err(|e| e.to_string())
                        }) {
                        Ok(m) => m,
                        Err(e) => {
                            tracing::error!(error = %e, "cannot build email");
                            return;
                        }
                    };
                let transport = (**transport).clone();
                let subject = subject.to_string();
                rocket::tokio::task::spawn_blocking(move || match transport.send(&message) {
                    Ok(_) => tracing::info!(subject, "email sent"),
                    Err(e) => tracing::error!(error = %e, subject, "email could not be sent"),
                });
            }
        }
    }

    /// Messages kept by the in-memory mailer.
    pub fn outbox(&self) -> Vec<Sent> {
        match self {
            Mailer::Memory(o) => o.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            _ => Vec::new(),
        }
    }
}
