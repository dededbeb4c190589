//! `rdbscope report` opened in a real headless browser (Debian's
//! Chromium): the page renders every section (the page's own check sets
//! `data-rendered` on `<body>` once the DOM has them) with no script
//! error, and a screenshot is a real, non-blank image. Also: a page of a
//! million keys' aggregates (many distinct prefixes) stays under 5 MB.
//! Without Chromium the test skips with a notice, and fails under
//! `REQUIRE_REDIS=1` (as CI sets; `.ci/run` installs it).

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    for c in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(c).exists() {
            return Some(PathBuf::from(c));
        }
    }
    assert!(
        std::env::var("REQUIRE_REDIS").as_deref() != Ok("1"),
        "REQUIRE_REDIS=1 but there is no chromium (apt-get install chromium)"
    );
    rdbscope_testkit::skipped("report browser: no chromium (apt-get install chromium)");
    None
}

fn browser(bin: &Path, profile: &Path, args: &[&str], page: &Path) -> std::process::Output {
    Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium")
}

/// Width, height and whether the pixels vary, from a PNG's header and
/// size: a blank page compresses to almost nothing.
fn png_facts(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&png[12..16], b"IHDR");
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    (w, h)
}

fn rendered(file: &Path, dir: &Path, bin: &Path) {
    let page = dir.join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
        .args(["report", "-q", "--force", "-o"])
        .arg(&page)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 5 << 20, "page of {size} bytes");
    let started = std::time::Instant::now();
    let dom = browser(
        bin,
        &dir.join("profile"),
        &["--dump-dom", "--virtual-time-budget=5000"],
        &page,
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    let body = dom
        .find("<body")
        .map(|i| &dom[i..(i + 300).min(dom.len())])
        .unwrap_or("");
    assert!(
        body.contains("data-rendered=\"summary,stats,bigkeys,memory,prefixes,expiry\""),
        "sections not all rendered: {body}"
    );
    assert!(!body.contains("data-errors"), "script errors: {body}");
    assert!(dom.matches("<svg").count() >= 4, "charts missing");
    let shot = dir.join("report.png");
    let out = browser(
        bin,
        &dir.join("profile"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,2000",
        ],
        &page,
    );
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(png_facts(&png), (1400, 2000));
    // A blank 1400x2000 page is a few KB; tables and charts are far more.
    assert!(
        png.len() > 50_000,
        "screenshot looks blank ({} bytes)",
        png.len()
    );
    assert!(started.elapsed().as_secs() < 60);
}

#[test]
fn report_renders_in_a_real_browser() {
    let Some(corpus) = rdbscope_testkit::corpus("report browser") else {
        return;
    };
    let Some(bin) = chromium() else {
        return;
    };
    let dir = rdbscope_testkit::TempDir::new("report-browser");
    for f in [
        "rdb/redis-7.0.15-debian/all-types.rdb",
        "rdb/valkey-9.1.2/all-types.rdb",
        "rdb/redis-3.2.13/empty.rdb",
    ] {
        rendered(&corpus.join(f), &dir.path, &bin);
    }
}

/// A million keys with 200,000 distinct prefixes at two levels: the page
/// holds aggregates, so it stays small.
#[test]
fn report_of_a_million_keys_stays_small() {
    let dir = rdbscope_testkit::TempDir::new("report-size");
    let rdb = dir.path.join("big.rdb");
    // Many keys, each its own prefix at level 2.
    let jsonl = dir.path.join("keys.jsonl");
    let mut text = String::with_capacity(60 << 20);
    for i in 0..1_000_000u64 {
        text.push_str(&format!(
            "{{\"db\":0,\"key\":\"p{}:u{}:x\",\"type\":\"string\",\"encoding\":\"raw\",\"expire_at_ms\":null,\"value\":\"v\"}}\n",
            i % 200_000,
            i
        ));
    }
    std::fs::write(&jsonl, text).unwrap();
    let ok = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rdbscope"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ok(&[
        "convert".as_ref(),
        "-q".as_ref(),
        "--rdb-version".as_ref(),
        "10".as_ref(),
        jsonl.as_os_str(),
        rdb.as_os_str(),
    ]);
    let page = dir.path.join("r.html");
    ok(&[
        "report".as_ref(),
        "-q".as_ref(),
        "-o".as_ref(),
        page.as_os_str(),
        rdb.as_os_str(),
    ]);
    let size = std::fs::metadata(&page).unwrap().len();
    assert!(size < 5 << 20, "page of {size} bytes");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("1000000 ("), "key count shown");
}
