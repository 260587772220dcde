use beebeta::cli::{self, Cli};
use beebeta::config::Settings;
use clap::Parser;

fn main() {
    let args = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => fail(&e),
    };
    beebeta::telemetry::init(&settings.app.log_format, &settings.app.log_filter);
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
    if let Err(e) = rocket::execute(rocket.launch()) {
        fail(&format!("server error: {e}"));
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("beebeta: {msg}");
    std::process::exit(1);
}
