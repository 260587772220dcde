//! Images on questions and choices: uploads through the API and the ask form, pages, bad input,
//! consistency with the store, and `media gc`. The store is in memory here; the same flows run
//! against an S3-compatible server (moto) when `BEEBETA_TEST_S3_ENDPOINT` is set.

use beebeta::cli::media::{GcOptions, gc};
use beebeta::media::Media;
use beebeta::media::image::samples;
use image::ImageFormat;
use rocket::http::{ContentType, Header, Status};

use crate::backend_tests;
use crate::helpers::{Backend, PASSWORD, TestApp, extract_csrf, json_of};

backend_tests!(
    upload_and_ask_through_the_api,
    ask_form_with_images_keeps_them_across_refusals,
    an_ask_form_too_large_to_send_comes_back_filled_in,
    bad_uploads_are_refused_and_store_nothing,
    uploads_of_others_cannot_be_attached,
    gc_removes_unreferenced_objects_only,
);

const BOUNDARY: &str = "beebeta-test-boundary-7f3a";

/// One part of a multipart body: field name, file name (None for a plain field), bytes.
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file_name {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn multipart_type() -> ContentType {
    ContentType::new("multipart", "form-data").with_params(("boundary", BOUNDARY))
}

fn media(app: &TestApp) -> &Media {
    &app.state().media
}

async fn media_rows(app: &TestApp) -> usize {
    app.db
        .run(|c| Ok(beebeta::models::media::all(c)?.len()))
        .await
        .unwrap()
}

async fn stored_objects(app: &TestApp) -> usize {
    media(app).store().list("img").await.unwrap().len()
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    samples::encoded_photo(w, h, ImageFormat::Jpeg)
}

/// Signs up and returns the session's CSRF token (from the ask form).
async fn asker(app: &TestApp, name: &str) -> String {
    app.signup(name, &format!("{name}@example.com"), PASSWORD)
        .await;
    let (s, page) = app.get("/ask").await;
    assert_eq!(s, Status::Ok);
    extract_csrf(&page).unwrap()
}

async fn upload(
    app: &TestApp,
    token: Option<&str>,
    file_name: &str,
    bytes: &[u8],
) -> (Status, serde_json::Value) {
    let mut req = app
        .client
        .post("/api/v1/uploads")
        .header(multipart_type())
        .body(multipart(&[("file", Some(file_name), bytes)]));
    if let Some(t) = token {
        req = req.header(Header::new("X-CSRF-Token", t.to_string()));
    }
    json_of(req.dispatch().await).await
}

async fn upload_and_ask_through_the_api(b: Backend) {
    let app = TestApp::new(b).await;
    // Anonymous uploads are refused.
    let (s, v) = upload(&app, None, "a.jpg", &jpeg(100, 100)).await;
    assert_eq!(s, Status::Unauthorized, "{v}");
    let token = asker(&app, "pictures").await;
    // A cookie-authenticated upload needs the CSRF header.
    let (s, v) = upload(&app, None, "a.jpg", &jpeg(100, 100)).await;
    assert_eq!(s, Status::Forbidden, "{v}");
    assert_eq!(media_rows(&app).await, 0);

    let (s, q) = upload(&app, Some(&token), "holiday.jpg", &jpeg(2400, 1600)).await;
    assert_eq!(s, Status::Created, "{q}");
    let id = q["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert_eq!(
        (q["width"].as_u64(), q["height"].as_u64()),
        (Some(1200), Some(800))
    );
    let urls = q["urls"].as_object().unwrap();
    assert_eq!(
        urls.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["1200", "160", "600"]
    );
    assert_eq!(q["url"], urls["1200"]);
    let (_, c) = upload(
        &app,
        Some(&token),
        "cat.png",
        &samples::encoded_graphic(300, 300),
    )
    .await;
    let cat = c["id"].as_str().unwrap().to_string();
    assert!(c["url"].as_str().unwrap().ends_with(".png"));
    assert_eq!(media_rows(&app).await, 2);

    // The rendition is served from the local store, immutable.
    let url = q["urls"]["600"].as_str().unwrap().to_string();
    assert!(
        url.starts_with("/media/img/") && url.ends_with(".jpg"),
        "{url}"
    );
    let r = app.client.get(url.clone()).dispatch().await;
    assert_eq!(r.status(), Status::Ok);
    assert_eq!(r.content_type(), Some(ContentType::JPEG));
    assert_eq!(
        r.headers().get_one("Cache-Control"),
        Some("public, max-age=31536000, immutable")
    );
    let bytes = r.into_bytes().await.unwrap();
    assert_eq!(
        image::load_from_memory(&bytes).unwrap().width(),
        600,
        "the 600 px rendition"
    );
    for missing in [
        "/media/img/0123456789abcdef0123456789abcdef.jpg",
        "/media/img/..%2F..%2Fbeebeta.secret",
        "/media/other/x.jpg",
    ] {
        let r = app.client.get(missing).dispatch().await;
        assert_eq!(r.status(), Status::NotFound, "{missing}");
    }

    let body = serde_json::json!({
        "title": "Which picture is the nicest one?",
        "image": id,
        "choices": ["Plain", {"label": "The cat", "image": cat}, {"label": "No image", "image": null}],
    });
    let r = app
        .client
        .post("/api/v1/questions")
        .header(ContentType::JSON)
        .body(body.to_string())
        .dispatch()
        .await;
    let (s, v) = json_of(r).await;
    assert_eq!(s, Status::Created, "{v}");
    let qid = v["id"].as_i64().unwrap();
    assert_eq!(v["image"]["url"], q["url"]);
    assert_eq!(v["image"]["width"], 1200);
    assert!(v["choices"][0]["image"].is_null());
    assert_eq!(v["choices"][1]["image"]["url"], c["url"]);
    assert!(v["choices"][2]["image"].is_null());
    let (_, got) = json_of(
        app.client
            .get(format!("/api/v1/questions/{qid}"))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(got["image"]["urls"], q["urls"]);

    // The page: responsive, sized, lazy, with alt text, and a share card image.
    let path = v["url"].as_str().unwrap().to_string();
    let (_, page) = app.get(&path).await;
    let srcset = format!(
        "srcset=\"{} 1200w, {} 600w, {} 160w\"",
        urls["1200"].as_str().unwrap(),
        urls["600"].as_str().unwrap(),
        urls["160"].as_str().unwrap()
    );
    assert!(page.contains(&srcset), "{page}");
    assert!(page.contains(
        "width=\"1200\" height=\"800\" alt=\"Which picture is the nicest one?\" loading=\"lazy\""
    ));
    assert!(page.contains("alt=\"The cat\" loading=\"lazy\""));
    assert!(page.contains("sizes=\""));
    assert!(page.contains(&format!(
        "<meta property=\"og:image\" content=\"http://beebeta.test{}\">",
        urls["1200"].as_str().unwrap()
    )));
    assert!(page.contains("summary_large_image"));
    // Lists show the question's thumbnail.
    let (_, list) = app.get("/new").await;
    assert!(
        list.contains(&format!(
            "class=\"question-card-thumb\" src=\"{}\"",
            urls["160"].as_str().unwrap()
        )),
        "{list}"
    );

    // An unknown or malformed upload id is a field error, and nothing is created.
    for bad in ["0123456789abcdef0123456789abcdef", "../../etc/passwd", "x"] {
        let body = serde_json::json!({
            "title": "Does a missing image get refused?", "image": bad, "choices": ["Yes", "No"],
        });
        let r = app
            .client
            .post("/api/v1/questions")
            .header(ContentType::JSON)
            .body(body.to_string())
            .dispatch()
            .await;
        let (s, v) = json_of(r).await;
        assert_eq!(s, Status::UnprocessableEntity, "{bad}: {v}");
        assert!(v["error"]["fields"]["image"].is_string(), "{v}");
    }
}

async fn an_ask_form_too_large_to_send_comes_back_filled_in(b: Backend) {
    // Images of at most 100 kB, a whole form of at most 300 kB.
    let app = TestApp::with(b, |f| {
        f.merge(("upload_request_max_bytes", 300_000))
            .merge(("upload_max_bytes", 100_000))
    })
    .await;
    let token = asker(&app, "bigphoto").await;
    let form = |image: &[u8]| {
        multipart(&[
            ("csrf_token", None, token.as_bytes()),
            ("title", None, "Which lake is the bluest?".as_bytes()),
            ("description", None, b"Seen from the air, in August."),
            ("image", Some("big.jpg"), image),
            ("choice", None, b"Crater Lake"),
            ("choice_image_id", None, b""),
            ("choice", None, b"Lake Baikal"),
            ("choice_image_id", None, b""),
            ("tags", None, b"lakes, travel"),
            ("kind", None, b"single"),
        ])
    };
    // An image over its limit inside a form within its own: refused at the image, all the rest
    // kept as typed.
    let r = app
        .client
        .post("/ask")
        .header(multipart_type())
        .body(form(&vec![0xAB_u8; 150_000]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    let html = r.into_string().await.unwrap();
    assert!(
        html.contains("action=\"/ask\""),
        "the form itself, not an error page"
    );
    for typed in [
        "Which lake is the bluest?",
        "Seen from the air, in August.",
        "Crater Lake",
        "Lake Baikal",
        "lakes, travel",
    ] {
        assert!(html.contains(typed), "{typed} is kept");
    }
    assert!(html.contains("id=\"ask-image-error\""), "said at the image");
    assert_eq!(count_questions(&app).await, 0, "nothing saved");
    assert_eq!(media_rows(&app).await, 0);
    // A form over the whole limit: 413 for this member, with the way back to the form.
    let r = app
        .client
        .post("/ask")
        .header(multipart_type())
        .body(form(&vec![0xAB_u8; 400_000]))
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::PayloadTooLarge);
    let html = r.into_string().await.unwrap();
    assert!(html.contains("The form is too large"), "{html}");
    assert!(html.contains("@bigphoto"), "the member's own header");
    assert!(html.contains("href=\"/ask\">Back to the form"), "{html}");
    assert_eq!(count_questions(&app).await, 0);
}

async fn ask_form_with_images_keeps_them_across_refusals(b: Backend) {
    let app = TestApp::new(b).await;
    let token = asker(&app, "formphotos").await;
    let photo = jpeg(800, 600);
    let thumb = jpeg(400, 400);
    // Too short a title: the form comes back with the image already uploaded and carried.
    let body = multipart(&[
        ("csrf_token", None, token.as_bytes()),
        ("title", None, b"Short"),
        ("image", Some("photo.jpg"), &photo),
        ("choice", None, b"Left"),
        ("choice_image", Some("left.jpg"), &thumb),
        ("choice_image_id", None, b""),
        ("choice", None, b"Right"),
        ("choice_image", Some(""), b""),
        ("choice_image_id", None, b""),
        ("kind", None, b"single"),
        ("action", None, b"submit"),
    ]);
    let r = app
        .client
        .post("/ask")
        .header(multipart_type())
        .body(body)
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::UnprocessableEntity);
    let html = r.into_string().await.unwrap();
    assert!(html.contains("enctype=\"multipart/form-data\""));
    let carried = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        html.match_indices(&marker)
            .map(|(i, _)| {
                let rest = &html[i + marker.len()..];
                rest[..rest.find('"').unwrap()].to_string()
            })
            .collect::<Vec<_>>()
    };
    let image_id = carried("image_id").pop().unwrap();
    let choice_ids = carried("choice_image_id");
    assert_eq!(image_id.len(), 32, "{html}");
    assert_eq!(choice_ids.len(), 2);
    assert_eq!(choice_ids[0].len(), 32);
    assert_eq!(choice_ids[1], "");
    assert!(html.contains("Remove image"), "previews are shown");
    assert_eq!(media_rows(&app).await, 2);
    assert_eq!(count_questions(&app).await, 0);

    // Fixed and resubmitted without files: the carried images are used.
    let body = multipart(&[
        ("csrf_token", None, token.as_bytes()),
        ("title", None, b"Left or right, which way?"),
        ("image_id", None, image_id.as_bytes()),
        ("image", Some(""), b""),
        ("choice", None, b"Left"),
        ("choice_image", Some(""), b""),
        ("choice_image_id", None, choice_ids[0].as_bytes()),
        ("choice", None, b"Right"),
        ("choice_image", Some(""), b""),
        ("choice_image_id", None, b""),
        ("kind", None, b"single"),
        ("action", None, b"submit"),
    ]);
    let r = app
        .client
        .post("/ask")
        .header(multipart_type())
        .body(body)
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let path = r.headers().get_one("Location").unwrap().to_string();
    let (_, page) = app.get(&path).await;
    assert!(page.contains("class=\"question-image\""));
    assert!(page.contains("alt=\"Left\" loading=\"lazy\""));
    assert!(!page.contains("alt=\"Right\""));

    // Edit: the form shows the images; ticking "Remove image" drops the question's image.
    let qid: i64 = path.split('/').nth(2).unwrap().parse().unwrap();
    let (s, edit) = app.get(&format!("/q/{qid}/edit")).await;
    assert_eq!(s, Status::Ok);
    assert!(edit.contains(&format!("name=\"image_id\" value=\"{image_id}\"")));
    let body = multipart(&[
        ("csrf_token", None, token.as_bytes()),
        ("title", None, b"Left or right, which way?"),
        ("image_id", None, image_id.as_bytes()),
        ("remove_image", None, image_id.as_bytes()),
        ("choice", None, b"Left"),
        ("choice_image_id", None, choice_ids[0].as_bytes()),
        ("choice", None, b"Right"),
        ("choice_image_id", None, b""),
        ("kind", None, b"single"),
        ("action", None, b"submit"),
    ]);
    let r = app
        .client
        .post(format!("/q/{qid}/edit"))
        .header(multipart_type())
        .body(body)
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let (_, page) = app.get(&path).await;
    assert!(!page.contains("class=\"question-image\""));
    assert!(page.contains("alt=\"Left\""), "the choice keeps its image");
}

async fn count_questions(app: &TestApp) -> i64 {
    app.db
        .run(|c| Ok(beebeta::models::user::site_totals(c)?.1))
        .await
        .unwrap()
}

async fn bad_uploads_are_refused_and_store_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    let token = asker(&app, "mallory").await;
    let good = jpeg(640, 480);
    let truncated = good[..good.len() / 2].to_vec();
    let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    let big = vec![0xFFu8; 5 * 1024 * 1024 + 10];
    let cases: Vec<(&str, &str, Vec<u8>, Status, &str)> = vec![
        (
            "text named .jpg",
            "photo.jpg",
            b"Hello, I am text.\n".to_vec(),
            Status::UnprocessableEntity,
            "not_an_image",
        ),
        (
            "HTML named .jpg",
            "photo.jpg",
            b"<html><body><script>alert(1)</script></body></html>".to_vec(),
            Status::UnprocessableEntity,
            "not_an_image",
        ),
        (
            "PNG carrying script",
            "x.png",
            samples::png_with_script(),
            Status::UnprocessableEntity,
            "image_carries_markup",
        ),
        (
            "SVG",
            "x.svg",
            svg,
            Status::UnprocessableEntity,
            "not_an_image",
        ),
        (
            "truncated JPEG",
            "x.jpg",
            truncated,
            Status::UnprocessableEntity,
            "corrupt_image",
        ),
        (
            "zero bytes",
            "x.jpg",
            Vec::new(),
            Status::UnprocessableEntity,
            "empty_file",
        ),
        (
            "decompression bomb",
            "bomb.png",
            samples::png_declaring(50_000, 50_000),
            Status::UnprocessableEntity,
            "image_too_large",
        ),
        (
            "over 5 MB",
            "big.jpg",
            big,
            Status::PayloadTooLarge,
            "payload_too_large",
        ),
        (
            "path-like name",
            "../../x",
            good.clone(),
            Status::BadRequest,
            "invalid_file_name",
        ),
    ];
    for (what, name, bytes, status, code) in &cases {
        let (s, v) = upload(&app, Some(&token), name, bytes).await;
        assert_eq!(s, *status, "{what}: {v}");
        assert_eq!(v["error"]["code"], *code, "{what}: {v}");
        assert!(!v["error"]["message"].as_str().unwrap().is_empty());
        // The same file in the ask form: a field error, the form kept, nothing stored.
        let body = multipart(&[
            ("csrf_token", None, token.as_bytes()),
            ("title", None, b"Is this image acceptable here?"),
            ("image", Some(name), bytes),
            ("choice", None, b"Yes"),
            ("choice", None, b"No"),
            ("kind", None, b"single"),
            ("action", None, b"submit"),
        ]);
        let r = app
            .client
            .post("/ask")
            .header(multipart_type())
            .body(body)
            .dispatch()
            .await;
        assert_eq!(r.status(), Status::UnprocessableEntity, "form, {what}");
        let html = r.into_string().await.unwrap();
        assert!(
            html.contains("id=\"ask-image-error\""),
            "form, {what}: {html}"
        );
        assert!(html.contains("value=\"Is this image acceptable here?\""));
    }
    // A request over the 64 MB limit is refused as a whole.
    let huge = vec![b'a'; 65 * 1024 * 1024];
    let (s, v) = upload(&app, Some(&token), "huge.jpg", &huge).await;
    assert_eq!(s, Status::PayloadTooLarge, "{v}");
    let body = multipart(&[
        ("csrf_token", None, token.as_bytes()),
        ("title", None, b"Is this form far too large?"),
        ("image", Some("huge.jpg"), &huge),
    ]);
    let r = app
        .client
        .post("/ask")
        .header(multipart_type())
        .body(body)
        .dispatch()
        .await;
    assert_eq!(r.status(), Status::PayloadTooLarge);
    assert!(r.into_string().await.unwrap().contains("at most 64 MB"));
    // A body that is not multipart.
    let r = app
        .client
        .post("/api/v1/uploads")
        .header(ContentType::JPEG)
        .header(Header::new("X-CSRF-Token", token.clone()))
        .body(good.clone())
        .dispatch()
        .await;
    let (s, v) = json_of(r).await;
    assert!(s.code >= 400 && s.code < 500, "{s}: {v}");
    assert_eq!(media_rows(&app).await, 0);
    assert_eq!(stored_objects(&app).await, 0);
    assert_eq!(count_questions(&app).await, 0);
    // And a good one still works afterwards.
    let (s, _) = upload(&app, Some(&token), "fine.jpg", &good).await;
    assert_eq!(s, Status::Created);
}

async fn uploads_of_others_cannot_be_attached(b: Backend) {
    let app = TestApp::new(b).await;
    let token = asker(&app, "alice").await;
    let (_, v) = upload(&app, Some(&token), "a.jpg", &jpeg(300, 200)).await;
    let alices = v["id"].as_str().unwrap().to_string();
    app.logout().await;
    asker(&app, "bob").await;
    let body = serde_json::json!({
        "title": "Can I borrow Alice's picture?",
        "choices": ["Yes", {"label": "No", "image": alices}],
    });
    let r = app
        .client
        .post("/api/v1/questions")
        .header(ContentType::JSON)
        .body(body.to_string())
        .dispatch()
        .await;
    let (s, v) = json_of(r).await;
    assert_eq!(s, Status::UnprocessableEntity, "{v}");
    assert!(v["error"]["fields"]["choices"].is_string(), "{v}");
    assert_eq!(count_questions(&app).await, 0);
}

async fn gc_removes_unreferenced_objects_only(b: Backend) {
    let app = TestApp::new(b).await;
    let token = asker(&app, "tidy").await;
    let mut ids = Vec::new();
    for (w, h) in [(900, 600), (700, 500), (500, 500)] {
        let (s, v) = upload(&app, Some(&token), "p.jpg", &jpeg(w, h)).await;
        assert_eq!(s, Status::Created);
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let ask = |title: &str, image: &str| {
        serde_json::json!({"title": title, "image": image, "choices": ["Yes", "No"]}).to_string()
    };
    let mut qids = Vec::new();
    let mut paths = Vec::new();
    for (title, image) in [
        ("Is this question going to stay?", &ids[0]),
        ("Is this question going away?", &ids[1]),
    ] {
        let r = app
            .client
            .post("/api/v1/questions")
            .header(ContentType::JSON)
            .body(ask(title, image))
            .dispatch()
            .await;
        let (s, v) = json_of(r).await;
        assert_eq!(s, Status::Created, "{v}");
        qids.push(v["id"].as_i64().unwrap());
        paths.push(v["url"].as_str().unwrap().to_string());
    }
    // The second question is deleted (its image stays until gc); ids[2] was never attached;
    // and one object was left behind by a failed upload.
    let r = app
        .post_form(
            &paths[1],
            &format!("/q/{}/delete", qids[1]),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status(), Status::SeeOther);
    let store = media(&app).store().clone();
    store
        .put(
            "img/00000000000000000000000000000000.jpg",
            bytes::Bytes::from_static(b"orphan"),
            "image/jpeg",
        )
        .await
        .unwrap();
    let before = stored_objects(&app).await;
    // Renditions: 900 px wide → 900, 600, 160 (3); 700 → 700, 600, 160 (3); 500 → 500, 160 (2).
    let objects_of = |i: usize| -> usize { [3, 3, 2][i] };
    assert_eq!(before, objects_of(0) + objects_of(1) + objects_of(2) + 1);

    // Defaults: within the grace periods nothing goes.
    let dry = gc(&app.db, &store, &GcOptions::default()).await.unwrap();
    assert_eq!((dry.rows, dry.objects, dry.applied), (0, 0, false));
    // A dry run with no grace reports but deletes nothing.
    let now = GcOptions {
        unattached_grace: std::time::Duration::ZERO,
        object_min_age: std::time::Duration::ZERO,
        ..GcOptions::default()
    };
    let dry = gc(&app.db, &store, &now).await.unwrap();
    assert_eq!(
        dry.rows, 2,
        "the deleted question's image and the unattached upload"
    );
    assert_eq!(dry.objects, objects_of(1) + objects_of(2) + 1);
    assert!(dry.to_string().contains("dry run"));
    assert_eq!(stored_objects(&app).await, before);
    assert_eq!(media_rows(&app).await, 3);
    // Applied.
    let done = gc(
        &app.db,
        &store,
        &GcOptions {
            apply: true,
            ..now.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!((done.rows, done.objects), (dry.rows, dry.objects));
    assert_eq!(stored_objects(&app).await, objects_of(0));
    assert_eq!(media_rows(&app).await, 1);
    // The live question still shows its image, and every URL it uses resolves.
    let (_, v) = json_of(
        app.client
            .get(format!("/api/v1/questions/{}", qids[0]))
            .dispatch()
            .await,
    )
    .await;
    for url in v["image"]["urls"].as_object().unwrap().values() {
        let r = app
            .client
            .get(url.as_str().unwrap().to_string())
            .dispatch()
            .await;
        assert_eq!(r.status(), Status::Ok, "{url}");
    }
    // Idempotent.
    let again = gc(&app.db, &store, &GcOptions { apply: true, ..now })
        .await
        .unwrap();
    assert_eq!((again.rows, again.objects), (0, 0));
}

/// The same flows on S3 (moto), with an outage in the middle of an upload.
mod s3 {
    use super::*;

    backend_tests!(
        #[ignore = "needs an S3-compatible server: BEEBETA_TEST_S3_ENDPOINT and AWS_* credentials (.ci/run starts moto)"]
        s3_uploads_survive_an_outage_mid_upload,
    );

    /// A TCP proxy to the S3 server that cuts every connection once `budget` request bytes have
    /// passed, and refuses connections from then on: an outage in the middle of an upload.
    struct CuttingProxy {
        endpoint: String,
        budget: std::sync::Arc<std::sync::atomic::AtomicI64>,
        down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    }

    impl CuttingProxy {
        fn start(upstream: &str) -> CuttingProxy {
            use std::io::{Read, Write};
            use std::net::{Shutdown, TcpListener, TcpStream};
            use std::sync::Arc;
            use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
            let upstream = upstream
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .to_string();
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let endpoint = format!("http://{}", listener.local_addr().unwrap());
            let budget = Arc::new(AtomicI64::new(i64::MAX));
            let down = Arc::new(AtomicBool::new(false));
            let (b, d) = (budget.clone(), down.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    let Ok(client) = client else { continue };
                    if d.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let Ok(server) = TcpStream::connect(&upstream) else {
                        continue;
                    };
                    let (mut c_in, mut s_out) =
                        (client.try_clone().unwrap(), server.try_clone().unwrap());
                    let (b2, d2) = (b.clone(), d.clone());
                    let (c_shut, s_shut) =
                        (client.try_clone().unwrap(), server.try_clone().unwrap());
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 8192];
                        while let Ok(n) = c_in.read(&mut buf) {
                            if n == 0 {
                                break;
                            }
                            let left = b2.fetch_sub(n as i64, Ordering::SeqCst) - n as i64;
                            if left < 0 || d2.load(Ordering::SeqCst) {
                                d2.store(true, Ordering::SeqCst);
                                let _ = c_shut.shutdown(Shutdown::Both);
                                let _ = s_shut.shutdown(Shutdown::Both);
                                break;
                            }
                            if s_out.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    });
                    let (mut s_in, mut c_out) = (server, client);
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut s_in, &mut c_out);
                        let _ = c_out.shutdown(Shutdown::Both);
                    });
                }
            });
            CuttingProxy {
                endpoint,
                budget,
                down,
            }
        }
    }

    async fn s3_uploads_survive_an_outage_mid_upload(b: Backend) {
        use std::sync::atomic::Ordering;
        let endpoint = std::env::var("BEEBETA_TEST_S3_ENDPOINT")
            .expect("BEEBETA_TEST_S3_ENDPOINT, e.g. http://127.0.0.1:5000 (.ci/run starts moto)");
        let bucket = format!("bb-it-{}", uuid::Uuid::new_v4().simple());
        let status = std::process::Command::new("curl")
            .args(["-sf", "-X", "PUT", &format!("{endpoint}/{bucket}")])
            .status()
            .unwrap();
        assert!(status.success(), "create bucket {bucket}");
        let proxy = CuttingProxy::start(&endpoint);
        let media_url = format!("s3://{bucket}/site");
        let app = TestApp::with(b, |f| {
            f.merge(("media", media_url.clone()))
                .merge(("s3_endpoint", proxy.endpoint.clone()))
                .merge(("media_url", "https://cdn.beebeta.test"))
        })
        .await;
        let token = asker(&app, "clouds").await;
        // Through S3: stored, with CDN URLs.
        let (s, v) = upload(&app, Some(&token), "a.jpg", &jpeg(2400, 1600)).await;
        assert_eq!(s, Status::Created, "{v}");
        assert!(
            v["url"]
                .as_str()
                .unwrap()
                .starts_with("https://cdn.beebeta.test/img/")
        );
        let first = v["id"].as_str().unwrap().to_string();
        let body = serde_json::json!({"title": "Does S3 keep this image?", "image": first, "choices": ["Yes", "No"]});
        let r = app
            .client
            .post("/api/v1/questions")
            .header(ContentType::JSON)
            .body(body.to_string())
            .dispatch()
            .await;
        assert_eq!(r.status(), Status::Created);
        // The app does not serve an S3 store itself.
        let r = app
            .client
            .get(format!(
                "/media/{}",
                v["url"]
                    .as_str()
                    .unwrap()
                    .rsplit("img/")
                    .next()
                    .map(|k| format!("img/{k}"))
                    .unwrap()
            ))
            .dispatch()
            .await;
        assert_eq!(r.status(), Status::NotFound);
        let objects_before = media(&app).store().list("img").await.unwrap().len();
        assert_eq!(objects_before, 3);

        // The outage starts 20 KB into the next upload's requests: some renditions may be written,
        // the rest fail; the upload is refused with a 503 and no row is written.
        proxy.budget.store(20_000, Ordering::SeqCst);
        let started = std::time::Instant::now();
        let (s, v) = upload(&app, Some(&token), "b.jpg", &jpeg(2000, 1500)).await;
        assert_eq!(s, Status::ServiceUnavailable, "{v}");
        assert_eq!(v["error"]["code"], "unavailable");
        assert!(proxy.down.load(Ordering::SeqCst));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "bounded by the retry budget"
        );
        assert_eq!(media_rows(&app).await, 1, "no row for the failed upload");
        // The ask form reports it too, keeping the input.
        let body = multipart(&[
            ("csrf_token", None, token.as_bytes()),
            ("title", None, b"Will this image make it up?"),
            ("image", Some("c.jpg"), &jpeg(640, 480)),
            ("choice", None, b"Yes"),
            ("choice", None, b"No"),
            ("action", None, b"submit"),
        ]);
        let r = app
            .client
            .post("/ask")
            .header(multipart_type())
            .body(body)
            .dispatch()
            .await;
        assert_eq!(r.status(), Status::ServiceUnavailable);
        assert_eq!(media_rows(&app).await, 1);

        // Afterwards gc (straight to S3) removes what the failed upload left, and only that.
        let direct = beebeta::media::MediaStore::open(
            &media_url,
            &beebeta::media::StoreOptions {
                s3_endpoint: Some(endpoint.clone()),
            },
        )
        .unwrap();
        let now = GcOptions {
            apply: true,
            unattached_grace: std::time::Duration::ZERO,
            object_min_age: std::time::Duration::ZERO,
            progress: false,
        };
        let report = gc(&app.db, &direct, &now).await.unwrap();
        assert_eq!(report.rows, 0);
        assert_eq!(direct.list("img").await.unwrap().len(), 3, "{report}");
        for l in direct.list("img").await.unwrap() {
            direct.delete(&l.key).await.unwrap();
        }
        let _ = std::process::Command::new("curl")
            .args(["-sf", "-X", "DELETE", &format!("{endpoint}/{bucket}")])
            .status();
    }
}
