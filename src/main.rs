use beebeta::cli::{self, Cli};
use beebeta::config::Settings;
use clap::Parser;

fn main() {
    let args = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => fail(&e),
    };
    let telemetry = match beebeta::telemetry::init(&settings.app.telemetry) {
        Ok(t) => t,
        Err(e) => fail(&e),
    };
    for notice in &settings.notices {
        tracing::warn!("{notice}");
    }
    match cli::run(args.command, &settings) {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => fail(&e),
    }
    let rocket = match beebeta::app::build(settings) {
        Ok(r) => r,
        Err(e) => fail(&e),
    };
    let served = rocket::execute(rocket.launch());
    // Sends what Sentry still holds; waits at most 2 s.
    telemetry.shutdown();
    if let Err(e) = served {
        fail(&format!("server error: {e}"));
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("beebeta: {msg}");
    std::process::exit(1);
}
