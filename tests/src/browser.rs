//! A real headless browser for the tests of HTML pages: Debian's `chromium` (installed by
//! `.ci/run`), run once per page with `--headless`. `--dump-dom` gives the document as
//! the browser built it (after parsing, styles and any script); `--screenshot` renders
//! it at a window size (a phone's, for the pages people read on one).

use std::path::Path;
use std::process::Command;

fn chromium() -> Command {
    let mut command = Command::new("chromium");
    // `--no-sandbox`: CI runs as root, where Chromium's sandbox cannot start.
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
    ]);
    command
}

/// The DOM of `url` as Chromium built it.
pub fn dump_dom(url: &str) -> String {
    let output = chromium()
        .args(["--dump-dom", url])
        .output()
        .unwrap_or_else(|err| panic!("starting chromium (apt-get install chromium): {err}"));
    assert!(
        output.status.success(),
        "chromium --dump-dom {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Render `url` at `width`×`height` into the PNG `path`.
pub fn screenshot(url: &str, path: &Path, width: u32, height: u32) {
    let output = chromium()
        .arg(format!("--screenshot={}", path.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(url)
        .output()
        .unwrap_or_else(|err| panic!("starting chromium (apt-get install chromium): {err}"));
    assert!(
        output.status.success() && path.is_file(),
        "chromium --screenshot {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
