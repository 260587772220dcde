//! Load-balancer probes: `/healthz` (the process is alive) and `/readyz` (the database answers).

use rocket::http::Status;
use rocket::serde::json::{Json, Value, json};
use rocket::{State, get, routes};

use crate::db::Db;

/// Routes of this module.
pub fn routes() -> Vec<rocket::Route> {
    routes![healthz, readyz]
}

#[get("/healthz")]
fn healthz() -> &'static str {
    "ok"
}

#[get("/readyz")]
async fn readyz(db: &State<Db>) -> (Status, Json<Value>) {
    match db.ping().await {
        Ok(()) => (
            Status::Ok,
            Json(json!({"status": "ready", "database": "ok"})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                Status::ServiceUnavailable,
                Json(json!({"status": "unavailable", "database": "error"})),
            )
        }
    }
}
