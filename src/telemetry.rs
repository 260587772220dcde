//! Logging: tracing with a pretty or JSON formatter; Rocket's `log` records are bridged in.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once (later calls are no-ops, e.g. in tests).
pub fn init(format: &str, level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let result = if format == "json" {
        builder.json().with_current_span(false).try_init()
    } else {
        builder.compact().try_init()
    };
    if result.is_ok() {
        let _ = tracing_log::LogTracer::init();
    }
}
