//! The same storage tests on every store: memory, a local directory, and (ignored unless
//! `BEEBETA_TEST_S3_ENDPOINT` is set; `.ci/run` starts moto) an S3-compatible server.

use super::image::samples;
use super::*;

async fn exercise(store: &MediaStore) {
    let key = format!("img/{}.jpg", uuid::Uuid::new_v4().simple());
    assert!(!store.exists(&key).await.unwrap());
    assert!(matches!(store.get(&key).await, Err(StoreError::NotFound)));
    store
        .put(&key, Bytes::from_static(b"\xFF\xD8first"), "image/jpeg")
        .await
        .unwrap();
    assert!(store.exists(&key).await.unwrap());
    assert_eq!(&store.get(&key).await.unwrap()[..], b"\xFF\xD8first");
    // Content-addressed objects are rewritten with the same bytes; a put replaces whole.
    store
        .put(&key, Bytes::from_static(b"\xFF\xD8second"), "image/jpeg")
        .await
        .unwrap();
    assert_eq!(&store.get(&key).await.unwrap()[..], b"\xFF\xD8second");
    let other = format!("img/{}.png", uuid::Uuid::new_v4().simple());
    store
        .put(&other, Bytes::from_static(b"png"), "image/png")
        .await
        .unwrap();
    let listed = store.list("img").await.unwrap();
    for k in [&key, &other] {
        let found = listed.iter().find(|l| &l.key == k).expect("listed");
        assert!(found.size > 0);
        assert!(found.last_modified <= chrono::Utc::now() + chrono::Duration::seconds(5));
    }
    store.delete(&key).await.unwrap();
    store.delete(&key).await.unwrap();
    assert!(!store.exists(&key).await.unwrap());
    assert!(
        store
            .list("img")
            .await
            .unwrap()
            .iter()
            .all(|l| l.key != key)
    );
    // Keys that are not plain relative paths name nothing.
    for bad in ["", "../etc/passwd", "img/../../x", "/abs"] {
        assert!(store.get(bad).await.is_err(), "{bad:?}");
    }
    store.delete(&other).await.unwrap();
}

async fn publishes_renditions(store: MediaStore) {
    let media = Media::new(store, "/media", ImageLimits::default(), 2);
    let jpeg = samples::encoded_photo(1600, 1200, ::image::ImageFormat::Jpeg);
    let processed = media.process(jpeg).await.unwrap().unwrap();
    media.publish(&processed).await.unwrap();
    for r in &processed.renditions {
        assert_eq!(&media.store().get(&r.key).await.unwrap()[..], &r.bytes[..]);
        media.store().delete(&r.key).await.unwrap();
    }
    let view = media.view(&StoredImage::from_processed("x".into(), &processed));
    assert_eq!(view.width, 1200);
    assert_eq!(view.height, 900);
    assert_eq!(
        view.urls.keys().collect::<Vec<_>>(),
        vec!["1200", "160", "600"]
    );
    assert!(view.srcset.contains(" 600w, /media/img/"));
}

#[rocket::async_test]
async fn memory_store() {
    exercise(&MediaStore::memory()).await;
    publishes_renditions(MediaStore::memory()).await;
}

#[rocket::async_test]
async fn local_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("media").display());
    let store = MediaStore::open(&url, &StoreOptions::default()).unwrap();
    exercise(&store).await;
    publishes_renditions(store).await;
    // Nothing escaped the directory.
    let outside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(outside, vec!["media"]);
}

/// An S3 test bucket on the server at `BEEBETA_TEST_S3_ENDPOINT`, removed on drop.
pub(crate) struct TestBucket {
    pub endpoint: String,
    pub name: String,
}

impl TestBucket {
    pub(crate) fn create() -> TestBucket {
        let endpoint = std::env::var("BEEBETA_TEST_S3_ENDPOINT")
            .expect("BEEBETA_TEST_S3_ENDPOINT, e.g. http://127.0.0.1:5000 (.ci/run starts moto)");
        let name = format!("bb-test-{}", uuid::Uuid::new_v4().simple());
        let status = std::process::Command::new("curl")
            .args(["-sf", "-X", "PUT", &format!("{endpoint}/{name}")])
            .status()
            .expect("curl");
        assert!(status.success(), "creating bucket {name} at {endpoint}");
        TestBucket { endpoint, name }
    }
}

impl Drop for TestBucket {
    fn drop(&mut self) {
        // moto deletes a bucket with its objects on `DELETE ?force` only via its own API; the
        // tests remove their objects, so a plain DELETE suffices.
        let _ = std::process::Command::new("curl")
            .args([
                "-sf",
                "-X",
                "DELETE",
                &format!("{}/{}", self.endpoint, self.name),
            ])
            .status();
    }
}

#[rocket::async_test]
#[ignore = "needs an S3-compatible server: BEEBETA_TEST_S3_ENDPOINT and AWS_* credentials (.ci/run starts moto)"]
async fn s3_store() {
    let bucket = TestBucket::create();
    let opts = StoreOptions {
        s3_endpoint: Some(bucket.endpoint.clone()),
    };
    let store = MediaStore::open(&format!("s3://{}/beebeta-test", bucket.name), &opts).unwrap();
    assert_eq!(store.kind(), store::Kind::S3);
    exercise(&store).await;
    publishes_renditions(store.clone()).await;
    // Objects carry their content type and the immutable cache policy.
    store
        .put("img/headers.jpg", Bytes::from_static(b"x"), "image/jpeg")
        .await
        .unwrap();
    let out = std::process::Command::new("curl")
        .args([
            "-sI",
            "--aws-sigv4",
            "aws:amz:us-east-1:s3",
            "--user",
            "test:test",
            &format!(
                "{}/{}/beebeta-test/img/headers.jpg",
                bucket.endpoint, bucket.name
            ),
        ])
        .output()
        .unwrap();
    let headers = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    assert!(headers.contains("content-type: image/jpeg"), "{headers}");
    assert!(headers.contains(store::IMMUTABLE), "{headers}");
    store.delete("img/headers.jpg").await.unwrap();
}
